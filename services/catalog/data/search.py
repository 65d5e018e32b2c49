"""Read side of the catalog in SQL: filtered, ordered book lists and ranked full-text search with facets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.app.queries import OPERATORS, Condition, Hit, Ranked, Search, SearchFilters, SortKey
from services.catalog.data.books import BOOKS_WITH_COUNTS, to_book
from services.catalog.data.tables import books, copies
from services.catalog.domain.books import Book
from services.catalog.domain.copies import CopyStatus

FACET_SIZE = 20
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

    async def rank(self, search: Search) -> list[Ranked]:
        """Every match, best first (score, then id, so equal scores keep a stable order across pages)."""
        where, score, tsquery = _matching(search)
        if tsquery is not None:
            # The planner prices a trigram comparison like an equality and picks a sequential scan that is
            # 10-20x slower than the GIN indexes; within this transaction only, make it use them.
            await self.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        query = sa.select(books.c.id, score).where(*where).order_by(score.desc(), books.c.id)
        return [Ranked(float(s), i) for i, s in (await self.session.execute(query)).all()]

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
            books.c.id.in_([r.book_id for r in ranked])
        )
        rows = {r.id: r for r in (await self.session.execute(query)).all()}
        return [
            Hit(to_book(rows[i]), s, [rows[i].highlight] if "<b>" in rows[i].highlight else [])
            for s, i in ranked
            if i in rows
        ]

    async def facet(self, name: str, book_ids: Sequence[uuid.UUID]) -> list[tuple[str, int]]:
        """The most frequent values of a field among these books (every match, not just one page)."""
        column = _FACET_COLUMNS[name]
        value: sa.ColumnElement[Any]
        matching = books.c.id == sa.any_(sa.cast(sa.bindparam("ids", list(book_ids)), ARRAY(UUID(as_uuid=True))))
        if name in ("authors", "subjects"):
            values = sa.select(sa.func.unnest(column).label("value")).where(matching).subquery()
            value = values.c.value
            query = sa.select(value, sa.func.count()).group_by(value)
        else:
            value = column
            present = column.is_not(None) if name == "publication_year" else column != ""
            query = sa.select(value, sa.func.count()).where(matching, present).group_by(value)
        query = query.order_by(sa.func.count().desc(), value).limit(FACET_SIZE)
        return [(str(v), int(n)) for v, n in (await self.session.execute(query)).all()]

    async def list(
        self, *, conditions: Sequence[Condition], keys: Sequence[SortKey], after: tuple[object, ...] | None, limit: int
    ) -> list[Book]:
        """Up to limit + 1 books in the order of `keys`, then by id (so equal keys keep a stable order)."""
        order = [(SORT_COLUMNS[k.field], k.descending) for k in keys] + [(books.c.id, False)]
        query = BOOKS_WITH_COUNTS.where(*_conditions_sql(conditions))
        query = query.order_by(*(c.desc() if d else c.asc() for c, d in order))
        if after is not None:
            query = query.where(_after(order, after))
        return [to_book(r) for r in (await self.session.execute(query.limit(limit + 1))).all()]

    async def count(self, *, conditions: Sequence[Condition]) -> int:
        query = sa.select(sa.func.count()).select_from(books).where(*_conditions_sql(conditions))
        return int(await self.session.scalar(query) or 0)


def _conditions_sql(conditions: Sequence[Condition]) -> list[sa.ColumnElement[bool]]:
    return [condition_sql(c) for c in conditions]


def _folded(search: Search) -> sa.ColumnElement[str]:
    """The search text, case-folded as the stored search columns are."""
    return sa.func.catalog_fold(sa.bindparam("query", search.text, type_=sa.Text))


def _tsquery(folded: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    return sa.func.websearch_to_tsquery(TEXT_SEARCH_CONFIG, folded)


def _matching(
    search: Search,
) -> tuple[list[sa.ColumnElement[bool]], sa.ColumnElement[float], sa.ColumnElement[Any] | None]:
    """What a search matches, how it scores a match, and its full-text query (None without text)."""
    where = _filters_sql(search.filters)
    if not search.text:
        return where, sa.cast(sa.literal(0.0), sa.Float), None
    folded = _folded(search)
    tsquery = _tsquery(folded)
    matches: list[sa.ColumnElement[bool]] = [
        books.c.search_vector.op("@@")(tsquery),
        folded.op("<%")(books.c.search_text),
    ]
    score = sa.func.ts_rank(books.c.search_vector, tsquery) + SIMILARITY_WEIGHT * sa.func.word_similarity(
        folded, books.c.search_text
    )
    if isbn := search.isbn():
        matches.append(books.c.isbn == isbn)
        score = score + sa.case((books.c.isbn == isbn, EXACT_ISBN_SCORE), else_=0.0)
    return [*where, sa.or_(*matches)], sa.cast(score, sa.Float), tsquery
