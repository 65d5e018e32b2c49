"""Search requests of the catalog, checked, and what they find: ranked hits, facet counts, and the cursors
a search's page tokens carry.

Their own module because a search is a query apart from ListBooks' filters and orders (queries.py): free text
ranked by score, with facets, whose pages resume after a score rather than after sort values.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from services.catalog.app.queries import not_our_token
from services.catalog.domain.books import Book
from services.catalog.domain.isbn import normalize_isbn
from services.support.runtime.errors import FieldViolation, InvalidArgument

FACET_FIELDS = ("authors", "subjects", "language", "publisher", "publication_year")
FACET_SIZE = 20
MAX_QUERY_LENGTH = 200
MAX_FILTER_VALUES = 20


_ISBN_LABEL = re.compile(r"^\s*isbn(?:-?1[03])?\s*:?\s*", re.IGNORECASE)
"""The label a publisher or a shop prints before an ISBN."""


@dataclass(frozen=True, slots=True)
class SearchFilters:
    authors: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    language: str = ""
    publisher: str = ""
    min_year: int = 0
    max_year: int = 0
    available_only: bool = False

    def is_empty(self) -> bool:
        return self == SearchFilters()


@dataclass(frozen=True, slots=True)
class Search:
    """A search request, checked: free text and/or filters, facets to count."""

    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    facets: tuple[str, ...] = ()

    def validated(self) -> Search:
        violations: list[FieldViolation] = []
        text = " ".join(self.text.split())
        if not text and self.filters.is_empty():
            violations.append(FieldViolation("query", "give a query, a filter, or both"))
        if len(text) > MAX_QUERY_LENGTH:
            violations.append(FieldViolation("query", f"must be at most {MAX_QUERY_LENGTH} characters"))
        for index, facet in enumerate(self.facets):
            if facet not in FACET_FIELDS:
                violations.append(
                    FieldViolation(f"facets[{index}]", f"unknown facet; known: {', '.join(FACET_FIELDS)}")
                )
        f = self.filters
        for name, value in (("min_publication_year", f.min_year), ("max_publication_year", f.max_year)):
            if value < 0:
                violations.append(FieldViolation(f"filters.{name}", "must not be negative"))
        if f.min_year and f.max_year and f.min_year > f.max_year:
            violations.append(FieldViolation("filters.max_publication_year", "must not be before min_publication_year"))
        for name, values in (("authors", f.authors), ("subjects", f.subjects)):
            if len(values) > MAX_FILTER_VALUES:
                violations.append(FieldViolation(f"filters.{name}", f"at most {MAX_FILTER_VALUES} values"))
        if violations:
            raise InvalidArgument(violations)
        return Search(text=text, filters=f, facets=tuple(dict.fromkeys(self.facets)))

    def isbn(self) -> str:
        """The query as an ISBN-13 when it is one (an exact lookup), also labelled as publishers print it
        ("ISBN 978-5-17-090830-1", "ISBN-10: 5170908301"), else ""."""
        try:
            return normalize_isbn(_ISBN_LABEL.sub("", self.text, count=1))
        except ValueError:
            return ""


class Ranked(NamedTuple):
    """A book matching a search and its score; results go by score, best first, then by id."""

    score: float
    book_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Matches:
    """A page of the books a search matched, best first; how many it matched in all, and the counts of the
    facets it asked for over all of them."""

    ranked: list[Ranked]
    total: int = 0
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    typo_tolerant: bool = False
    """Whether the ranking counted near misses (it does when full text finds too little): the later pages of
    the search keep the first page's ranking, whatever the catalogue's changes would decide meanwhile."""


LIST_FACETS = frozenset({"authors", "subjects"})
"""Facets over a list field: a book counts once for each of its values."""


def count_facet(values: Iterable[str | int | None]) -> list[tuple[str, int]]:
    """The FACET_SIZE most frequent of these values (each book's, or each of a book's list field), most
    frequent first, then by value; empty values (no language, no year) are not counted."""
    return count_facet_pairs(Counter(filter(None, values)).items())


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the book, its score, and the matching passages (<b>…</b> around the words)."""

    book: Book
    score: float
    highlights: list[str]


def score_cursor(ranked: Ranked) -> list[object]:
    return [ranked.score, str(ranked.book_id)]


def resume_ranked(cursor: list[Any] | None) -> Ranked | None:
    """The last hit of the page before (what `score_cursor` wrote): the next page starts right after it."""
    if cursor is None:
        return None
    try:
        score, book_id = cursor
        return Ranked(float(score), uuid.UUID(str(book_id)))
    except (ValueError, TypeError, OverflowError):  # 10**400 does not fit a float
        raise not_our_token() from None


def search_cursor(ranked: Ranked, matches: Matches) -> list[object]:
    """What a search's next page resumes from: its last hit and how its pages are ranked."""
    return [*score_cursor(ranked), int(matches.typo_tolerant)]


def resume_search(cursor: list[Any] | None) -> tuple[Ranked | None, bool | None]:
    """The page before's last hit and its ranking (None, None for the first page, which decides it). A page
    that ranked anew switched between full text and typo tolerance when a book was added meanwhile: it
    repeated the hits of the page before and dropped others."""
    if cursor is None:
        return None, None
    if len(cursor) != 3 or cursor[2] not in (0, 1):
        raise not_our_token()
    return resume_ranked(cursor[:2]), bool(cursor[2])


def ranks_after(ranked: Ranked, after: Ranked | None) -> bool:
    """Whether `ranked` comes after `after` in a search's order (score descending, then id)."""
    return after is None or (-ranked.score, ranked.book_id) > (-after.score, after.book_id)


def count_facet_pairs(pairs: Iterable[tuple[Any, int]]) -> list[tuple[str, int]]:
    """Values and their counts in count_facet's order and form."""
    ranked = sorted(pairs, key=lambda item: (-item[1], item[0]))
    return [(str(value), count) for value, count in ranked[:FACET_SIZE]]
