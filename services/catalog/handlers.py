"""Book use cases. Each runs in one unit of work; the servicer only translates protos to these calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

from services.catalog import queries
from services.catalog.copy_repository import SqlCopyRepository
from services.catalog.domain import BOOK_FIELDS, BOOK_OUTPUT_ONLY, Book, BookDetails, update_paths
from services.catalog.repository import SqlBookRepository
from services.catalog.search import Hit, SqlBookSearch, sort_cursor
from services.support.runtime import pagination
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.idempotency import RequestLog


class CatalogUnitOfWork(Protocol):
    books: SqlBookRepository
    copies: SqlCopyRepository
    search: SqlBookSearch
    requests: RequestLog

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def lock(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class CreateBook:
    details: BookDetails
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class UpdateBook:
    book_id: uuid.UUID
    changes: BookDetails
    mask: tuple[str, ...]
    etag: str = ""
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class DeleteBook:
    book_id: uuid.UUID
    etag: str = ""
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ListBooks:
    page_size: int = 0
    page_token: str = ""
    filter: str = ""
    order_by: str = ""


@dataclass(frozen=True, slots=True)
class SearchBooks:
    search: queries.Search
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class BooksPage:
    books: list[Book]
    next_page_token: str
    total_size: int


@dataclass(frozen=True, slots=True)
class SearchResults:
    hits: list[Hit]
    next_page_token: str
    total_size: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


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


async def update_book(cmd: UpdateBook, uow: CatalogUnitOfWork, clock: Clock) -> Book:
    """Changes the masked fields under the row lock, so concurrent updates cannot lose each other's changes."""
    paths = update_paths(cmd.mask, sent=cmd.changes, writable=BOOK_FIELDS, output_only=BOOK_OUTPUT_ONLY)
    async with uow:
        if await uow.requests.recall(cmd.request_id, "UpdateBook"):
            return await uow.books.get(cmd.book_id)
        book = await uow.books.get(cmd.book_id, lock=True)
        book.check_etag(cmd.etag)
        book.revise(cmd.changes, paths, now=clock.now())
        await uow.books.save(book)
        await uow.requests.remember(cmd.request_id, "UpdateBook", book.name)
        await uow.commit()
    return book


async def delete_book(cmd: DeleteBook, uow: CatalogUnitOfWork, clock: Clock) -> None:
    """Removes a book and its copies, unless a copy is on loan or on the hold shelf."""
    async with uow:
        if await uow.requests.recall(cmd.request_id, "DeleteBook"):
            return
        book = await uow.books.get(cmd.book_id, lock=True)
        book.check_etag(cmd.etag)
        book.remove(await uow.books.copy_statuses(book.id), now=clock.now())
        await uow.books.remove(book)
        await uow.requests.remember(cmd.request_id, "DeleteBook", book.name)
        await uow.commit()


async def list_books(query: ListBooks, uow: CatalogUnitOfWork) -> BooksPage:
    """Filtered and ordered (newest first by default), keyset-paginated so pages stay stable under inserts."""
    conditions = queries.parse_filter(query.filter, queries.BOOK_FILTER_FIELDS)
    keys = queries.parse_order_by(query.order_by)
    size = pagination.page_size(query.page_size)
    fingerprint = pagination.fingerprint("ListBooks", conditions, keys)
    cursor = pagination.decode_token(query.page_token, fingerprint)
    async with uow:
        page = await uow.search.list(conditions=conditions, keys=keys, cursor=cursor, limit=size)
    next_token = ""
    if page.has_more and page.books:
        next_token = pagination.encode_token(sort_cursor(page.books[-1], keys), fingerprint)
    return BooksPage(books=page.books, next_page_token=next_token, total_size=page.total_size)


async def search_books(cmd: SearchBooks, uow: CatalogUnitOfWork) -> SearchResults:
    """Ranked full-text and typo-tolerant search with facet counts; tokens only resume the same search."""
    search = cmd.search.validated()
    size = pagination.page_size(cmd.page_size)
    fingerprint = pagination.fingerprint("SearchBooks", search.text, search.filters)
    cursor = pagination.decode_token(cmd.page_token, fingerprint)
    after = _score_cursor(cursor) if cursor else None
    async with uow:
        page = await uow.search.search(search, after=after, limit=size)
    next_token = ""
    if page.has_more and page.hits:
        last = page.hits[-1]
        next_token = pagination.encode_token([last.score, str(last.book.id)], fingerprint)
    return SearchResults(page.hits, next_token, page.total_size, page.facets)


def _score_cursor(cursor: list[Any]) -> tuple[float, uuid.UUID]:
    try:
        score, book_id = cursor
        return float(score), uuid.UUID(str(book_id))
    except (ValueError, TypeError):
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
