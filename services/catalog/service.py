"""CatalogService servicer: proto -> command -> handler -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.catalog import handlers
from services.catalog.domain import Book, BookDetails, parse_book_name
from services.runtime.clock import Clock
from services.runtime.idempotency import parse_request_id


def book_to_proto(book: Book) -> catalog_pb2.Book:
    d = book.details
    created, updated = Timestamp(), Timestamp()
    created.FromDatetime(book.created_at)
    updated.FromDatetime(book.updated_at)
    return catalog_pb2.Book(
        name=book.name,
        isbn=d.isbn,
        title=d.title,
        subtitle=d.subtitle,
        authors=d.authors,
        subjects=d.subjects,
        publisher=d.publisher,
        publication_year=d.publication_year,
        language=d.language,
        description=d.description,
        cover_url=d.cover_url,
        create_time=created,
        update_time=updated,
        total_copies=book.total_copies,
        available_copies=book.available_copies,
        etag=book.etag,
    )


def details_from_proto(book: catalog_pb2.Book) -> BookDetails:
    return BookDetails(
        title=book.title,
        isbn=book.isbn,
        subtitle=book.subtitle,
        authors=tuple(book.authors),
        subjects=tuple(book.subjects),
        publisher=book.publisher,
        publication_year=book.publication_year,
        language=book.language,
        description=book.description,
        cover_url=book.cover_url,
    )


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, *, uow: Callable[[], handlers.CatalogUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def CreateBook(
        self, request: catalog_pb2.CreateBookRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Book:
        """Adds a book."""
        command = handlers.CreateBook(
            details=details_from_proto(request.book), request_id=parse_request_id(request.request_id)
        )
        return book_to_proto(await handlers.create_book(command, self._uow(), self._clock))

    async def GetBook(self, request: catalog_pb2.GetBookRequest, context: grpc.aio.ServicerContext) -> catalog_pb2.Book:
        """Returns one book."""
        return book_to_proto(await handlers.get_book(parse_book_name(request.name), self._uow()))

    async def ListBooks(
        self, request: catalog_pb2.ListBooksRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListBooksResponse:
        """Lists books, newest first."""
        query = handlers.ListBooks(
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
        )
        page = await handlers.list_books(query, self._uow())
        return catalog_pb2.ListBooksResponse(
            books=[book_to_proto(b) for b in page.books],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )
