"""Read side of the catalog in SQL: filtered, ordered book lists and ranked full-text search with facets.

A search is two statements in the common case: the first ranks every book the full-text match finds and
returns only the page, with the number of matches and the facets counted over all of them in Postgres (the
matches are read once, into a materialized CTE); the second brings the page's books and passages. Only when
full text finds fewer than ENOUGH_FULL_TEXT_MATCHES books, and the text has a word long enough to hold a typo
that is not a stop word, does the typo-tolerant (trigram) match run, in a statement of its own that ranks both
kinds of match together.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from services.catalog.app.queries import OPERATORS, Condition, SortKey
from services.catalog.app.search_queries import Hit, Matches, Ranked, Search, count_facet_pairs
from services.catalog.data.books import BOOKS_WITH_COUNTS, to_book
from services.catalog.data.item_types import lendable
from services.catalog.data.search_statements import (
    MATCH_END,
    MATCH_START,
    Shape,
    books_with_passages,
    page_of_matches,
    search_values,
)
from services.catalog.data.tables import books, copies
from services.catalog.domain.books import Book
from services.catalog.domain.copy_values import CopyStatus
from services.support.runtime.repository import TrackingRepository

ENOUGH_FULL_TEXT_MATCHES = 10
"""Full text finding fewer books than this is "too little": the typo-tolerant match runs too."""

_AVAILABLE_COPIES = (
    sa.select(sa.func.count())
    .where(
        copies.c.book_id == books.c.id,
        copies.c.status == CopyStatus.AVAILABLE.value,
        lendable(copies.c.item_type),
    )
    .scalar_subquery()
)


def _title_key(title: Any) -> sa.ColumnElement[str]:
    """A title's place in alphabetical order (domain/books.py title_order; the function of migration 0008)."""
    return sa.func.catalog_title_key(title, type_=sa.Text)


SORT_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "title": books.c.title,
    "publication_year": sa.func.coalesce(books.c.publication_year, 0),
    "create_time": books.c.created_at,
}
_SCALAR_FILTERS: dict[str, sa.ColumnElement[Any]] = {
    "language": books.c.language,
    "publisher": books.c.publisher,
    "isbn": books.c.isbn,
    "publication_year": sa.func.coalesce(books.c.publication_year, 0),
    "available_copies": _AVAILABLE_COPIES,
}


def condition_sql(c: Condition) -> sa.ColumnElement[bool]:
    """An AIP-160 condition of ListBooks as SQL; array fields match when the book has the value."""
    if c.field in ("author", "subject"):
        column = books.c.authors if c.field == "author" else books.c.subjects
        contains = column.contains([c.value])
        return contains if c.op == "=" else sa.not_(contains)
    scalar = _SCALAR_FILTERS[c.field]
    if c.op == "!=":  # a book without an ISBN (NULL) is not that ISBN: SQL's != left every such book out
        return scalar.is_distinct_from(c.value)
    return OPERATORS[c.op](scalar, c.value)


def _after(columns: Sequence[tuple[sa.ColumnElement[Any], bool]], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """Keyset condition: rows strictly after `values` in the order of `columns`. All in one direction (title
    then id, ascending: the common case), a row comparison, which the btree index of the same columns seeks to
    (an OR chain it only applied as a filter, reading every title before the page). In mixed directions, the
    OR chain, with the first column's bound beside it so that the scan still starts at the page."""
    pairs = zip(columns, values, strict=True)
    bound = [v if isinstance(v, sa.ClauseElement) else sa.literal(v, c.type) for (c, _), v in pairs]
    if len({descending for _, descending in columns}) == 1:
        here, there = sa.tuple_(*(column for column, _ in columns)), sa.tuple_(*bound)
        return here < there if columns[0][1] else here > there
    alternatives = []
    for i, (column, descending) in enumerate(columns):
        equal_before = [columns[j][0] == bound[j] for j in range(i)]
        beyond = column < bound[i] if descending else column > bound[i]
        alternatives.append(sa.and_(*equal_before, beyond))
    first, descending = columns[0]
    return sa.and_(first <= bound[0] if descending else first >= bound[0], sa.or_(*alternatives))


class SqlBookSearch(TrackingRepository):
    """Read-only queries, changing nothing. A search's two statements run on the driver in a read-only unit
    of work (SQLAlchemy's session and result machinery cost the catalog about as much CPU as the driver's
    round trips); the lists, built per call, run on the unit of work's session."""

    async def rank(
        self, search: Search, *, after: Ranked | None, limit: int, typo_tolerant: bool | None = None
    ) -> Matches:
        """The page after `after` (score, then id), the number of all matches and the facet counts over all
        of them, from one statement (search_statements.page_of_matches)."""
        if typo_tolerant is not None:
            matches, _ = await self._matches(search, after, limit, typos=typo_tolerant and bool(search.text))
            return matches
        matches, typo_words = await self._matches(search, after, limit, typos=False)
        # Only stop words and short words ("the", "of the", "и"): no word a typo could be in, and comparing
        # them by trigrams scored a third of the catalogue (0.4-2.6 s at 50,000 titles) to find nothing useful.
        if typo_words and matches.total < ENOUGH_FULL_TEXT_MATCHES:
            matches, _ = await self._matches(search, after, limit, typos=True)
        return matches

    async def _matches(self, search: Search, after: Ranked | None, limit: int, *, typos: bool) -> tuple[Matches, bool]:
        """The matches, and whether the text has words a typo-tolerant match would compare."""
        statement = page_of_matches(Shape.of(search, after, typos=typos))
        found = await self._first(statement, search_values(search, after, limit))
        assert found is not None  # an aggregate over the page: always one row
        facets = {name: count_facet_pairs(found[f"facet_{name}"] or ()) for name in search.facets}
        scores, ids = found["scores"] or (), found["ids"] or ()
        ranked = [Ranked(s, i) for s, i in zip(scores, ids, strict=True)]
        return Matches(ranked, found["total"], facets, typo_tolerant=typos), bool(found["typo_words"])

    async def hits(self, search: Search, ranked: Sequence[Ranked]) -> list[Hit]:
        """These books in this order, with their passages that match the text (<b>…</b> around the words)."""
        if not ranked:
            return []
        values = {"query": search.text, "ids": [r.book_id for r in ranked]}
        rows = {r["id"]: r for r in await self._fetch(books_with_passages(bool(search.text)), values)}
        return [
            Hit(to_book(row), s, [_as_html(row["highlight"])] if MATCH_START in row["highlight"] else [])
            for s, i in ranked
            if (row := rows.get(i)) is not None
        ]

    async def list(
        self, *, conditions: Sequence[Condition], keys: Sequence[SortKey], after: tuple[object, ...] | None, limit: int
    ) -> list[Book]:
        """Up to limit + 1 books in the order of `keys`, then by id (so equal keys keep a stable order)."""
        query = list_statement(conditions=conditions, keys=keys, after=after, limit=limit)
        return [to_book(r._mapping) for r in (await self.session.execute(query)).all()]

    async def count(self, *, conditions: Sequence[Condition]) -> int:
        query = sa.select(sa.func.count()).select_from(books).where(*_conditions_sql(conditions))
        return int(await self.session.scalar(query) or 0)


def list_statement(
    *, conditions: Sequence[Condition], keys: Sequence[SortKey], after: tuple[object, ...] | None, limit: int
) -> sa.Select[Any]:
    """ListBooks' page: up to limit + 1 books in the order of `keys`, then by id, after the cursor `after`."""
    order: list[tuple[sa.ColumnElement[Any], bool]] = []
    resumed: list[Any] = []
    for key, value in zip(keys, after or [None] * len(keys), strict=False):
        if key.field == "title":  # by the key of its letters, then by itself (the index's order)
            order.append((_title_key(books.c.title), key.descending))
            resumed.append(_title_key(sa.bindparam(None, value, type_=sa.Text)))
        order.append((SORT_COLUMNS[key.field], key.descending))
        resumed.append(value)
    order.append((books.c.id, False))
    query = BOOKS_WITH_COUNTS.where(*_conditions_sql(conditions))
    query = query.order_by(*(c.desc() if d else c.asc() for c, d in order))
    if after is not None:
        query = query.where(_after(order, [*resumed, after[-1]]))
    return query.limit(limit + 1)


def _conditions_sql(conditions: Sequence[Condition]) -> list[sa.ColumnElement[bool]]:
    return [condition_sql(c) for c in conditions]


def _as_html(passage: str) -> str:
    """The passage as HTML: the book's own text escaped, the matched words in <b>…</b>."""
    return html.escape(passage, quote=False).replace(MATCH_START, "<b>").replace(MATCH_END, "</b>")
