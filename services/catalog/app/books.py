"""Book use cases: cataloguing books, listing and searching them. Each runs in one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.catalog.app import queries, search_queries
from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.books import BOOK, BOOK_FIELDS, BOOK_OUTPUT_ONLY, Book, BookDetails
from services.catalog.domain.update_mask import update_paths
from services.support.runtime.clock import Clock
from services.support.runtime.pagination import decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows


@dataclass(frozen=True, slots=True)
class CreateBook:
    details: BookDetails
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class GetBook:
    book_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class GetAvailability:
    book_ids: tuple[uuid.UUID, ...]


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
    search: search_queries.Search
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class SearchResults:
    """A page of search hits, and the facet counts over every match (not just the page)."""

    page: Page[search_queries.Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


async def create_book(cmd: CreateBook, *, uow: CatalogUnitOfWork, clock: Clock) -> Book:
    """Registers a book; a repeated request_id returns the book the first call created."""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateBook"):
            return await uow.books.get(BOOK.parse_id(previous))
        book = Book.register(cmd.details, now=clock.now())
        await uow.books.add(book)
        await uow.requests.remember(cmd.request_id, "CreateBook", book.name)
        await uow.commit()
    return book


async def get_book(query: GetBook, *, uow: CatalogUnitOfWork) -> Book:
    """One book with its copy counts."""
    async with uow:
        return await uow.books.get(query.book_id)


async def get_availability(query: GetAvailability, *, uow: CatalogUnitOfWork) -> dict[uuid.UUID, int]:
    """How many copies of each book are available for loan, in one read; a book not in the catalog is left out."""
    async with uow:
        return await uow.books.availability(query.book_ids)


async def update_book(cmd: UpdateBook, *, uow: CatalogUnitOfWork, clock: Clock) -> Book:
    """Changes the masked fields; an update that lost a race with another is refused (CONCURRENT_UPDATE)."""
    paths = update_paths(cmd.mask, sent=cmd.changes, writable=BOOK_FIELDS, output_only=BOOK_OUTPUT_ONLY)
    async with uow:
        if await uow.requests.recall(cmd.request_id, "UpdateBook"):
            return await uow.books.get(cmd.book_id)
        # Without an etag the last writer wins: the row is locked, so concurrent updates take turns instead of
        # losing the version check (ABORTED, which an update without an etag never asked for).
        book = await uow.books.get(cmd.book_id, for_update=not cmd.etag)
        book.check_etag(cmd.etag)
        if book.revise(cmd.changes, paths, now=clock.now()):
            await uow.books.save(book)
        await uow.requests.remember(cmd.request_id, "UpdateBook", book.name)
        await uow.commit()
    return book


async def delete_book(cmd: DeleteBook, *, uow: CatalogUnitOfWork, clock: Clock) -> None:
    """Removes a book and its copies, unless a copy is on loan or on the hold shelf."""
    async with uow:
        if await uow.requests.recall(cmd.request_id, "DeleteBook"):
            return
        # The book and its copies stay locked until the delete commits: no check-out can slip in between.
        book = await uow.books.get(cmd.book_id, for_update=True)
        book.check_etag(cmd.etag)
        book.remove(await uow.books.copy_statuses(book.id), now=clock.now())
        await uow.books.remove(book)
        await uow.requests.remember(cmd.request_id, "DeleteBook", book.name)
        await uow.commit()


async def list_books(query: ListBooks, *, uow: CatalogUnitOfWork) -> Page[Book]:
    """Filtered and ordered (newest first by default), keyset-paginated so pages stay stable under inserts."""
    conditions = queries.parse_filter(query.filter, queries.BOOK_FILTER_FIELDS)
    keys = queries.parse_order_by(query.order_by)
    size = page_size(query.page_size)
    query_key = fingerprint("ListBooks", conditions, keys)
    cursor = decode_token(query.page_token, query_key)
    after = queries.resume_after(keys, cursor) if cursor is not None else None
    async with uow:
        rows = await uow.search.list(conditions=conditions, keys=keys, after=after, limit=size)
        total = await uow.search.count(conditions=conditions)
    return page_from_rows(
        rows, limit=size, query=query_key, cursor_of=lambda book: queries.sort_cursor(book, keys), total_size=total
    )


async def search_books(cmd: SearchBooks, *, uow: CatalogUnitOfWork) -> SearchResults:
    """Ranked full-text and typo-tolerant search with facet counts; tokens only resume the same search."""
    search = cmd.search.validated()
    size = page_size(cmd.page_size)
    query_key = fingerprint("SearchBooks", search.text, search.filters)
    after, typo_tolerant = search_queries.resume_search(decode_token(cmd.page_token, query_key))
    async with uow:
        # One match gives the page, the total and the facets; the page's books and passages come after.
        matches = await uow.search.rank(search, after=after, limit=size + 1, typo_tolerant=typo_tolerant)
        window = page_from_rows(
            matches.ranked,
            limit=size,
            query=query_key,
            cursor_of=lambda ranked: search_queries.search_cursor(ranked, matches),
            total_size=matches.total,
        )
        hits = await uow.search.hits(search, window.items)
    return SearchResults(Page(hits, window.next_page_token, window.total_size), matches.facets)
