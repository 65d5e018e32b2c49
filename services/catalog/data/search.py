"""Read side of the catalog in SQL: filtered, ordered book lists and ranked full-text search with facets.

A search is one statement in the common case: the full-text match ranks every book it finds and brings the
values of the facets asked for, counted here (no second pass over the matches). Only when full text finds
fewer than ENOUGH_FULL_TEXT_MATCHES books does the typo-tolerant (trigram) match run, in a second statement
that ranks both kinds of match together.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from services.catalog.app.queries import (
    LIST_FACETS,
    OPERATORS,
    Condition,
    Hit,
    Matches,
    Ranked,
    Search,
    SearchFilters,
    SortKey,
    count_facet,
)
from services.catalog.data.books import BOOKS_WITH_COUNTS, to_book
from services.catalog.data.tables import books, copies
from services.catalog.domain.books import Book
from services.catalog.domain.copies import CopyStatus

ENOUGH_FULL_TEXT_MATCHES = 10
"""Full text finding fewer books than this is "too little": the typo-tolerant match runs too."""
TEXT_SEARCH_CONFIG: sa.ColumnClause[Any] = sa.literal_column("'russian'::regconfig")
# A typo-tolerant match adds its similarity (0..1) at this weight to the full-text rank, which is ~0.6
# for one title word, ~0.25 for an author and ~0.12 for a subject (ts_rank's default weights 1, .4, .2, .1).
SIMILARITY_WEIGHT = 0.5
EXACT_ISBN_SCORE = 10.0
HEADLINE_OPTIONS = "StartSel=<b>, StopSel=</b>, MaxWords=25, MinWords=8, MaxFragments=2"

_AVAILABLE_COPIES = (
    sa.select(sa.func.count())
    .where(copies.c.book_id == books.c.id, copies.c.status == CopyStatus.AVAILABLE.value)
    .scalar_subquery()
)
_HAS_AVAILABLE_COPY = sa.exists().where(copies.c.book_id == books.c.id, copies.c.status == CopyStatus.AVAILABLE.value)
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
_UUIDS = ARRAY(UUID(as_uuid=True))
"""Ids go as one array parameter: one prepared statement whatever their number."""
_FACET_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "authors": books.c.authors,
    "subjects": books.c.subjects,
    "language": books.c.language,
    "publisher": books.c.publisher,
    "publication_year": books.c.publication_year,
}


def condition_sql(c: Condition) -> sa.ColumnElement[bool]:
    """An AIP-160 condition of ListBooks as SQL; array fields match when the book has the value."""
    if c.field in ("author", "subject"):
        column = books.c.authors if c.field == "author" else books.c.subjects
        contains = column.contains([c.value])
        return contains if c.op == "=" else sa.not_(contains)
    return OPERATORS[c.op](_SCALAR_FILTERS[c.field], c.value)


def _after(columns: Sequence[tuple[sa.ColumnElement[Any], bool]], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """Keyset condition for a mixed-direction order: rows strictly after `values`."""
    alternatives = []
    for i, (column, descending) in enumerate(columns):
        equal_before = [columns[j][0] == values[j] for j in range(i)]
        beyond = column < values[i] if descending else column > values[i]
        alternatives.append(sa.and_(*equal_before, beyond))
    return sa.or_(*alternatives)


def _filters_sql(f: SearchFilters) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if f.authors:
        where.append(books.c.authors.overlap(list(f.authors)))
    if f.subjects:
        where.append(books.c.subjects.overlap(list(f.subjects)))
    if f.language:
        where.append(books.c.language == f.language.lower())
    if f.publisher:
        where.append(books.c.publisher == f.publisher)
    if f.min_year:
        where.append(books.c.publication_year >= f.min_year)
    if f.max_year:
        where.append(books.c.publication_year <= f.max_year)
    if f.available_only:
        where.append(_HAS_AVAILABLE_COPY)
    return where


class SqlBookSearch:
    """Read-only queries; they run in the unit of work's session but change nothing."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rank(self, search: Search) -> Matches:
        """Every match, best first (score, then id, so equal scores keep a stable order across pages), with
        the facet counts over all of them."""
        rows = await self._matches(search, typos=False)
        if search.text and len(rows) < ENOUGH_FULL_TEXT_MATCHES:
            rows = await self._matches(search, typos=True)
        facets = {name: _count(name, [row[i] for row in rows]) for i, name in enumerate(search.facets, start=2)}
        return Matches([Ranked(float(row[1]), row[0]) for row in rows], facets)

    async def _matches(self, search: Search, *, typos: bool) -> list[Any]:
        where, score = _matching(search, typos=typos)
        # As the driver decodes them: SQLAlchemy's per-element processing of arrays cost more than the search.
        facets = [sa.type_coerce(_FACET_COLUMNS[name], NullType()) for name in search.facets]
        query = sa.select(books.c.id, score, *facets).where(*where).order_by(score.desc(), books.c.id)
        return list((await self.session.execute(query)).all())  # id, score, then each facet's value

    async def hits(self, search: Search, ranked: Sequence[Ranked]) -> list[Hit]:
        """These books in this order, with their passages that match the text (<b>…</b> around the words)."""
        if not ranked:
            return []
        passage = books.c.title + " — " + books.c.description
        headline = (
            sa.func.ts_headline(TEXT_SEARCH_CONFIG, passage, _tsquery(_folded(search)), HEADLINE_OPTIONS)
            if search.text
            else sa.literal("")
        )
        query = BOOKS_WITH_COUNTS.add_columns(headline.label("highlight")).where(
            books.c.id == sa.any_(sa.cast(sa.bindparam("ids", [r.book_id for r in ranked]), _UUIDS))
        )
        rows = {r.id: r for r in (await self.session.execute(query)).all()}
        return [
            Hit(to_book(rows[i]._mapping), s, [rows[i].highlight] if "<b>" in rows[i].highlight else [])
            for s, i in ranked
            if i in rows
        ]

    async def list(
        self, *, conditions: Sequence[Condition], keys: Sequence[SortKey], after: tuple[object, ...] | None, limit: int
    ) -> list[Book]:
        """Up to limit + 1 books in the order of `keys`, then by id (so equal keys keep a stable order)."""
        order = [(SORT_COLUMNS[k.field], k.descending) for k in keys] + [(books.c.id, False)]
        query = BOOKS_WITH_COUNTS.where(*_conditions_sql(conditions))
        query = query.order_by(*(c.desc() if d else c.asc() for c, d in order))
        if after is not None:
            query = query.where(_after(order, after))
        return [to_book(r._mapping) for r in (await self.session.execute(query.limit(limit + 1))).all()]

    async def count(self, *, conditions: Sequence[Condition]) -> int:
        query = sa.select(sa.func.count()).select_from(books).where(*_conditions_sql(conditions))
        return int(await self.session.scalar(query) or 0)


def _count(name: str, values: list[Any]) -> list[tuple[str, int]]:
    return count_facet(itertools.chain.from_iterable(values) if name in LIST_FACETS else values)


def _conditions_sql(conditions: Sequence[Condition]) -> list[sa.ColumnElement[bool]]:
    return [condition_sql(c) for c in conditions]


def _folded(search: Search) -> sa.ColumnElement[str]:
    """The search text, case-folded as the stored search columns are."""
    return sa.func.catalog_fold(sa.bindparam("query", search.text, type_=sa.Text))


def _tsquery(folded: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    return sa.func.websearch_to_tsquery(TEXT_SEARCH_CONFIG, folded)


def _matching(search: Search, *, typos: bool) -> tuple[list[sa.ColumnElement[bool]], sa.ColumnElement[float]]:
    """What a search matches (full text, and with `typos` the trigram match too) and how it scores a match.
    The score is the same either way, so a book ranks alike whichever statement found it."""
    where = _filters_sql(search.filters)
    if not search.text:
        return where, sa.cast(sa.literal(0.0), sa.Float)
    folded = _folded(search)
    tsquery = _tsquery(folded)
    matches: list[sa.ColumnElement[bool]] = [books.c.search_vector.op("@@")(tsquery)]
    if typos:
        matches.append(folded.op("<%")(books.c.search_text))
    score = sa.func.ts_rank(books.c.search_vector, tsquery) + SIMILARITY_WEIGHT * sa.func.word_similarity(
        folded, books.c.search_text
    )
    if isbn := search.isbn():
        matches.append(books.c.isbn == isbn)
        score = score + sa.case((books.c.isbn == isbn, EXACT_ISBN_SCORE), else_=0.0)
    return [*where, sa.or_(*matches)], sa.cast(score, sa.Float)
