"""Catalog persistence: the book repository and the unit of work. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.copy_repository import SqlCopyRepository
from services.catalog.domain import Book, BookNotFound, CopyStatus, book_name
from services.catalog.search import SqlBookSearch
from services.catalog.tables import BOOKS_WITH_COUNTS, books, copies, to_book
from services.support.runtime.db import SqlAlchemyUnitOfWork, TrackingRepository, violated_constraint
from services.support.runtime.errors import AlreadyExists
from services.support.runtime.idempotency import RequestLog

_ADVISORY_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("key", type_=sa.String), 0))
)


def _fields(book: Book) -> dict[str, object]:
    d = book.details
    return {
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
        "updated_at": book.updated_at,
        "version": book.version,
    }


def _isbn_taken(book: Book) -> AlreadyExists:
    isbn = book.details.isbn
    return AlreadyExists(
        f"a book with ISBN {isbn} already exists",
        reason="ISBN_TAKEN",
        metadata={"isbn": isbn, "field": "book.isbn"},
    )


class BookRepository(Protocol):
    async def add(self, book: Book) -> None: ...
    async def get(self, book_id: uuid.UUID, *, lock: bool = False) -> Book: ...
    async def save(self, book: Book) -> None: ...
    async def remove(self, book: Book) -> None: ...
    async def copy_statuses(self, book_id: uuid.UUID) -> list[CopyStatus]: ...


class SqlBookRepository(TrackingRepository):
    async def add(self, book: Book) -> None:
        """Inserts within the unit of work's transaction; visible to others only after its commit."""
        await self.add_many([book])

    async def add_many(self, new_books: Sequence[Book]) -> None:
        values = [{**_fields(b), "id": b.id, "created_at": b.created_at} for b in new_books]
        try:
            async with self.session.begin_nested():
                await self.session.execute(books.insert(), values)
        except IntegrityError as error:
            if violated_constraint(error) == "books_isbn_key" and len(new_books) == 1:
                raise _isbn_taken(new_books[0]) from None
            raise
        for book in new_books:
            self._track(book)

    async def get(self, book_id: uuid.UUID, *, lock: bool = False) -> Book:
        """The book with its copy counts; `lock` holds its row until the transaction ends."""
        query = BOOKS_WITH_COUNTS.where(books.c.id == book_id)
        if lock:
            query = query.with_for_update(of=books)
        row = (await self.session.execute(query)).first()
        if row is None:
            raise BookNotFound(book_name(book_id))
        return self._track(to_book(row))

    async def by_isbns(self, isbns: Sequence[str]) -> dict[str, Book]:
        """Books with these ISBNs, locked (a bulk import updates them)."""
        if not isbns:
            return {}
        query = BOOKS_WITH_COUNTS.where(books.c.isbn.in_(list(isbns))).with_for_update(of=books)
        return {b.details.isbn: self._track(b) for b in map(to_book, (await self.session.execute(query)).all())}

    async def save(self, book: Book) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(books.update().where(books.c.id == book.id).values(_fields(book)))
        except IntegrityError as error:
            if violated_constraint(error) == "books_isbn_key":
                raise _isbn_taken(book) from None
            raise

    async def remove(self, book: Book) -> None:
        """Deletes the book; its copies go with it (ON DELETE CASCADE)."""
        await self.session.execute(books.delete().where(books.c.id == book.id))

    async def copy_statuses(self, book_id: uuid.UUID) -> list[CopyStatus]:
        """Statuses of the book's copies, locked so no check-out slips in before a delete commits."""
        query = sa.select(copies.c.status).where(copies.c.book_id == book_id).with_for_update()
        return [CopyStatus(s) for s in (await self.session.scalars(query)).all()]


class SqlCatalogUnitOfWork(SqlAlchemyUnitOfWork):
    books: SqlBookRepository
    copies: SqlCopyRepository
    requests: RequestLog
    search: SqlBookSearch

    def _open(self, session: AsyncSession) -> None:
        self.books = SqlBookRepository(session)
        self.copies = SqlCopyRepository(session)
        self.requests = RequestLog(session)
        self.search = SqlBookSearch(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.books, self.copies)

    async def lock(self, key: str) -> None:
        """Serialises transactions on `key` (e.g. a loan id) until this one ends: a transaction advisory lock."""
        await self.session.execute(_ADVISORY_LOCK, {"key": key})
