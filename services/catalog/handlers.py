"""Catalog use cases. Each runs in one unit of work; the servicer only translates protos to these calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

from services.catalog.domain import Book, BookDetails
from services.catalog.repository import BookPage, BookRepository
from services.runtime import pagination
from services.runtime.clock import Clock
from services.runtime.errors import InvalidArgument
from services.runtime.idempotency import RequestLog


class CatalogUnitOfWork(Protocol):
    books: BookRepository
    requests: RequestLog

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CreateBook:
    details: BookDetails
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ListBooks:
    page_size: int = 0
    page_token: str = ""
    filter: str = ""
    order_by: str = ""


@dataclass(frozen=True, slots=True)
class BooksPage:
    books: list[Book]
    next_page_token: str
    total_size: int


async def create_book(cmd: CreateBook, uow: CatalogUnitOfWork, clock: Clock) -> Book:
    """Registers a book; a repeated request_id returns the book the first call created."""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateBook"):
            return await uow.books.get(uuid.UUID(previous.removeprefix("books/")))
        book = Book.register(cmd.details, now=clock.now())
        await uow.books.add(book)
        await uow.requests.remember(cmd.request_id, "CreateBook", book.name)
        await uow.commit()
    return book


async def get_book(book_id: uuid.UUID, uow: CatalogUnitOfWork) -> Book:
    async with uow:
        return await uow.books.get(book_id)


async def list_books(query: ListBooks, uow: CatalogUnitOfWork) -> BooksPage:
    """Newest first, keyset-paginated so pages stay stable while books are added."""
    if query.filter:
        raise InvalidArgument.field("filter", "filtering is not supported yet; use SearchBooks")
    if query.order_by not in ("", "create_time desc"):
        raise InvalidArgument.field("order_by", "only 'create_time desc' is supported")
    size = pagination.page_size(query.page_size)
    fingerprint = pagination.fingerprint("ListBooks", query.filter, query.order_by)
    cursor = pagination.decode_token(query.page_token, fingerprint)
    after = _decode_cursor(cursor) if cursor else None
    async with uow:
        page: BookPage = await uow.books.list_newest_first(after=after, limit=size)
    next_token = ""
    if page.has_more and page.books:
        last = page.books[-1]
        next_token = pagination.encode_token([last.created_at.isoformat(), str(last.id)], fingerprint)
    return BooksPage(books=page.books, next_page_token=next_token, total_size=page.total_size)


def _decode_cursor(cursor: list[object]) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, book_id = cursor
        return datetime.fromisoformat(str(created_at)), uuid.UUID(str(book_id))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
