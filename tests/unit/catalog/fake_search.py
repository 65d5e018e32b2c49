"""The read side of the in-memory catalog (fakes.py): ListBooks' filters and orders as Python comparisons,
and a search that matches words of the title and authors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from services.catalog.app.queries import OPERATORS, Condition, SortKey
from services.catalog.app.search_queries import LIST_FACETS, Hit, Matches, Ranked, Search, count_facet, ranks_after
from services.catalog.domain.books import Book, title_order


class FakeBookSearch:
    """ListBooks' filters and orders as Python comparisons; a search matches words of the title and authors
    (case-insensitively, one point per word) and has no highlights."""

    def __init__(self, books: Callable[[], list[Book]]) -> None:
        self._all = books

    async def count(self, *, conditions: Sequence[Condition]) -> int:
        return len(self._filtered(conditions))

    async def rank(
        self, search: Search, *, after: Ranked | None, limit: int, typo_tolerant: bool | None = None
    ) -> Matches:
        words = search.text.lower().split()
        ranked, matched = [], []
        for book in self._all():
            text = " ".join((book.details.title, *book.details.authors)).lower()
            score = float(sum(1 for word in words if word in text))
            if (score or not words) and _passes(book, search):
                ranked.append(Ranked(score, book.id))
                matched.append(book)
        facets = {name: count_facet(_values(matched, name)) for name in search.facets}
        page = [r for r in sorted(ranked, key=lambda r: (-r.score, r.book_id)) if ranks_after(r, after)]
        return Matches(page[:limit], len(ranked), facets)

    async def hits(self, search: Search, ranked: Sequence[Ranked]) -> list[Hit]:
        books = {b.id: b for b in self._all()}
        return [Hit(books[r.book_id], r.score, []) for r in ranked if r.book_id in books]

    async def list(
        self, *, conditions: Sequence[Condition], keys: Sequence[SortKey], after: tuple[object, ...] | None, limit: int
    ) -> list[Book]:
        directions = [k.descending for k in keys] + [False]
        found = self._filtered(conditions)
        for position in reversed(range(len(directions))):  # stable sorts, last key first: mixed directions
            found.sort(key=lambda b, p=position: _sort_values(b, keys)[p], reverse=directions[position])
        if after is not None:
            found = [b for b in found if _is_after(_sort_values(b, keys), after, directions)]
        return found[: limit + 1]

    def _filtered(self, conditions: Sequence[Condition]) -> list[Book]:
        return [b for b in self._all() if all(_holds(b, c) for c in conditions)]


def _values(books: list[Book], name: str) -> list[Any]:
    """A field's values among these books; each of a list field's values."""
    values = [getattr(book.details, name) for book in books]
    return [one for value in values for one in value] if name in LIST_FACETS else values


def _holds(book: Book, condition: Condition) -> bool:
    if condition.field in ("author", "subject"):
        values = book.details.authors if condition.field == "author" else book.details.subjects
        return (condition.value in values) == (condition.op == "=")
    actual = book.available_copies if condition.field == "available_copies" else getattr(book.details, condition.field)
    return bool(OPERATORS[condition.op](actual, condition.value))


def _passes(book: Book, search: Search) -> bool:
    f, d = search.filters, book.details
    return (
        (not f.authors or bool(set(f.authors) & set(d.authors)))
        and (not f.subjects or bool(set(f.subjects) & set(d.subjects)))
        and (not f.language or d.language == f.language.lower())
        and (not f.publisher or d.publisher == f.publisher)
        and (not f.min_year or d.publication_year >= f.min_year)
        and (not f.max_year or d.publication_year <= f.max_year)
        and (not f.available_only or book.available_copies > 0)
    )


def _sort_values(book: Book, keys: Sequence[SortKey]) -> tuple[Any, ...]:
    by_field = {"title": title_order(book.details.title), "publication_year": book.details.publication_year}
    return (*(book.created_at if k.field == "create_time" else by_field[k.field] for k in keys), book.id)


def _is_after(values: tuple[Any, ...], cursor: tuple[object, ...], descending: list[bool]) -> bool:
    cursor = tuple(title_order(seen) if isinstance(seen, str) else seen for seen in cursor)  # titles are the only text
    for value, seen, down in zip(values, cursor, descending, strict=True):
        if value != seen:
            return bool(value < seen) if down else bool(value > seen)  # type: ignore[operator]
    return False
