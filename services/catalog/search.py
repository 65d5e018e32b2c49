"""Read side of the catalog in SQL: filtered, ordered book lists and ranked full-text search with facets."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain import Book, CopyStatus
from services.catalog.queries import Condition, Search, SearchFilters, SortKey
from services.catalog.tables import BOOKS_WITH_COUNTS, books, copies, to_book
from services.support.runtime.errors import InvalidArgument

FACET_SIZE = 20
TEXT_SEARCH_CONFIG = sa.literal_column("'russian'::regconfig")
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
_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FACET_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "authors": books.c.authors,
    "subjects": books.c.subjects,
    "language": books.c.language,
    "publisher": books.c.publisher,
    "publication_year": books.c.publication_year,
}


@dataclass(frozen=True, slots=True)
class BookPage:
    books: list[Book]
    total_size: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class Hit:
    book: Book
    score: float
    highlights: list[str]


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[Hit]
    total_size: int
    has_more: bool
    facets: dict[str, list[tuple[str, int]]]


def condition_sql(c: Condition) -> sa.ColumnElement[bool]:
    """An AIP-160 condition of ListBooks as SQL; array fields match when the book has the value."""
    if c.field in ("author", "subject"):
        column = books.c.authors if c.field == "author" else books.c.subjects
        contains = column.contains([c.value])
        return contains if c.op == "=" else sa.not_(contains)
    return _COMPARE[c.op](_SCALAR_FILTERS[c.field], c.value)


def sort_cursor(book: Book, keys: Sequence[SortKey]) -> list[object]:
    """The values a page token carries to resume after `book` (JSON-friendly)."""
    values = {"title": book.details.title, "publication_year": book.details.publication_year, "create_time": None}
    return [book.created_at.isoformat() if k.field == "create_time" else values[k.field] for k in keys] + [str(book.id)]


def _typed_cursor(keys: Sequence[SortKey], cursor: list[Any]) -> list[Any]:
    try:
        if len(cursor) != len(keys) + 1:
            raise ValueError
        parse = {"title": str, "publication_year": int, "create_time": datetime.fromisoformat}
        return [parse[k.field](v) for k, v in zip(keys, cursor, strict=False)] + [uuid.UUID(cursor[-1])]
    except (ValueError, TypeError):
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None


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

    async def list(
        self, *, conditions: Sequence[Condition], keys: Sequence[SortKey], cursor: list[Any] | None, limit: int
    ) -> BookPage:
        where = [condition_sql(c) for c in conditions]
        order = [(SORT_COLUMNS[k.field], k.descending) for k in keys] + [(books.c.id, False)]
        query = BOOKS_WITH_COUNTS.where(*where).order_by(*(c.desc() if d else c.asc() for c, d in order))
        if cursor is not None:
            query = query.where(_after(order, _typed_cursor(keys, cursor)))
        rows = (await self.session.execute(query.limit(limit + 1))).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(books).where(*where))
        return BookPage([to_book(r) for r in rows[:limit]], int(total or 0), len(rows) > limit)

    async def search(self, search: Search, *, after: tuple[float, uuid.UUID] | None, limit: int) -> SearchPage:
        """Best match first (score, then id, so equal scores keep a stable order across pages).

        The match runs once: its (id, score) list gives the total, the page and the facets' population.
        """
        where, score, tsquery = self._matching(search)
        if tsquery is not None:
            # The planner prices a trigram comparison like an equality and picks a sequential scan that is
            # 10-20x slower than the GIN indexes; within this transaction only, make it use them.
            await self.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        ranked_query = sa.select(books.c.id, score).where(*where).order_by(score.desc(), books.c.id)
        ranked = [(float(s), i) for i, s in (await self.session.execute(ranked_query)).all()]
        start = 0 if after is None else bisect.bisect_right(ranked, (-after[0], after[1]), key=lambda r: (-r[0], r[1]))
        page = ranked[start : start + limit + 1]
        hits = await self._hits(page[:limit], tsquery)
        all_ids = [i for _, i in ranked]
        facets = {name: await self._facet(name, all_ids) for name in search.facets}
        return SearchPage(hits, len(ranked), len(page) > limit, facets)

    async def _hits(self, page: list[tuple[float, uuid.UUID]], tsquery: sa.ColumnElement[Any] | None) -> list[Hit]:
        if not page:
            return []
        headline = (
            sa.func.ts_headline(
                TEXT_SEARCH_CONFIG, books.c.title + " — " + books.c.description, tsquery, HEADLINE_OPTIONS
            )
            if tsquery is not None
            else sa.literal("")
        )
        query = BOOKS_WITH_COUNTS.add_columns(headline.label("highlight")).where(books.c.id.in_([i for _, i in page]))
        rows = {r.id: r for r in (await self.session.execute(query)).all()}
        return [
            Hit(to_book(rows[i]), s, [rows[i].highlight] if "<b>" in rows[i].highlight else [])
            for s, i in page
            if i in rows
        ]

    def _matching(
        self, search: Search
    ) -> tuple[list[sa.ColumnElement[bool]], sa.ColumnElement[float], sa.ColumnElement[Any] | None]:
        where = _filters_sql(search.filters)
        if not search.text:
            return where, sa.cast(sa.literal(0.0), sa.Float), None
        folded = sa.func.catalog_fold(sa.bindparam("query", search.text, type_=sa.Text))
        tsquery = sa.func.websearch_to_tsquery(TEXT_SEARCH_CONFIG, folded)
        matches = [books.c.search_vector.op("@@")(tsquery), folded.op("<%")(books.c.search_text)]
        score = sa.func.ts_rank(books.c.search_vector, tsquery) + SIMILARITY_WEIGHT * sa.func.word_similarity(
            folded, books.c.search_text
        )
        if isbn := search.isbn():
            matches.append(books.c.isbn == isbn)
            score = score + sa.case((books.c.isbn == isbn, EXACT_ISBN_SCORE), else_=0.0)
        return [*where, sa.or_(*matches)], sa.cast(score, sa.Float), tsquery

    async def _facet(self, name: str, ids: list[uuid.UUID]) -> list[tuple[str, int]]:
        """The most frequent values of a field among every matching book (not just this page)."""
        column = _FACET_COLUMNS[name]
        matching = books.c.id == sa.any_(sa.cast(sa.bindparam("ids", ids), ARRAY(UUID(as_uuid=True))))
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
