"""Catalog persistence: tables, and the book repository (Protocol + SQLAlchemy). Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain import Book, BookDetails, BookNotFound, book_name
from services.runtime.db import SqlAlchemyUnitOfWork, TrackingRepository, violated_constraint
from services.runtime.errors import AlreadyExists
from services.runtime.idempotency import RequestLog

metadata = sa.MetaData()

books = sa.Table(
    "books",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("isbn", sa.Text, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("subtitle", sa.Text, nullable=False, server_default=""),
    sa.Column("authors", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("subjects", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("publisher", sa.Text, nullable=False, server_default=""),
    sa.Column("publication_year", sa.Integer),
    sa.Column("language", sa.Text, nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("cover_url", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("books_created_at_id", sa.text("created_at DESC"), sa.text("id DESC")),
)

copies = sa.Table(
    "copies",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("book_id", UUID(as_uuid=True), sa.ForeignKey("books.id", ondelete="CASCADE"), nullable=False),
    sa.Column("barcode", sa.Text, nullable=False, unique=True),
    sa.Column("branch", sa.Text, nullable=False, server_default=""),
    sa.Column("shelf_location", sa.Text, nullable=False, server_default=""),
    sa.Column("item_type", sa.Text, nullable=False, server_default="book"),
    sa.Column("status", sa.Text, nullable=False, server_default="AVAILABLE"),
    sa.Column("current_loan", sa.Text),
    sa.Column("current_hold", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("copies_book_id", "book_id"),
)


@dataclass(frozen=True, slots=True)
class BookPage:
    books: list[Book]
    total_size: int
    has_more: bool


class BookRepository(Protocol):
    seen: list[Book]  # type: ignore[assignment]

    async def add(self, book: Book) -> None: ...
    async def get(self, book_id: uuid.UUID) -> Book: ...
    async def list_newest_first(self, *, after: tuple[datetime, uuid.UUID] | None, limit: int) -> BookPage: ...


def _copy_count(*conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
    return sa.select(sa.func.count()).where(copies.c.book_id == books.c.id, *conditions).scalar_subquery()


# Built once: constructing a statement costs more CPU than running a primary-key lookup.
BOOKS_WITH_COUNTS = sa.select(
    books,
    _copy_count(copies.c.status != "WITHDRAWN").label("total_copies"),
    _copy_count(copies.c.status == "AVAILABLE").label("available_copies"),
)


def _to_book(row: sa.Row[tuple[object, ...]]) -> Book:
    m = row._mapping
    details = BookDetails(
        title=m["title"],
        isbn=m["isbn"] or "",
        subtitle=m["subtitle"],
        authors=tuple(m["authors"]),
        subjects=tuple(m["subjects"]),
        publisher=m["publisher"],
        publication_year=m["publication_year"] or 0,
        language=m["language"],
        description=m["description"],
        cover_url=m["cover_url"],
    )
    return Book(
        id=m["id"],
        details=details,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
        total_copies=m["total_copies"],
        available_copies=m["available_copies"],
    )


def _to_row(book: Book) -> dict[str, object]:
    d = book.details
    return {
        "id": book.id,
        "isbn": d.isbn or None,
        "title": d.title,
        "subtitle": d.subtitle,
        "authors": list(d.authors),
        "subjects": list(d.subjects),
        "publisher": d.publisher,
        "publication_year": d.publication_year or None,
        "language": d.language,
        "description": d.description,
        "cover_url": d.cover_url,
        "created_at": book.created_at,
        "updated_at": book.updated_at,
        "version": book.version,
    }


class SqlBookRepository(TrackingRepository):
    async def add(self, book: Book) -> None:
        """Inserts within the unit of work's transaction; visible to others only after its commit."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(books.insert().values(**_to_row(book)))
        except IntegrityError as error:
            if violated_constraint(error) == "books_isbn_key":
                isbn = book.details.isbn
                raise AlreadyExists(
                    f"a book with ISBN {isbn} already exists", reason="ISBN_TAKEN", metadata={"isbn": isbn}
                ) from None
            raise
        self._track(book)

    async def get(self, book_id: uuid.UUID) -> Book:
        row = (await self.session.execute(BOOKS_WITH_COUNTS.where(books.c.id == book_id))).first()
        if row is None:
            raise BookNotFound(book_name(book_id))
        return self._track(_to_book(row))

    async def list_newest_first(self, *, after: tuple[datetime, uuid.UUID] | None, limit: int) -> BookPage:
        query = BOOKS_WITH_COUNTS.order_by(books.c.created_at.desc(), books.c.id.desc()).limit(limit + 1)
        if after is not None:
            query = query.where(sa.tuple_(books.c.created_at, books.c.id) < sa.tuple_(*after))
        rows = (await self.session.execute(query)).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(books))
        return BookPage(
            books=[_to_book(r) for r in rows[:limit]], total_size=int(total or 0), has_more=len(rows) > limit
        )


class SqlCatalogUnitOfWork(SqlAlchemyUnitOfWork):
    books: SqlBookRepository
    requests: RequestLog

    def _open(self, session: AsyncSession) -> None:
        self.books = SqlBookRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.books,)
