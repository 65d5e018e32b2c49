"""CatalogService servicer: proto -> command -> handler -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
from google.protobuf import empty_pb2

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.catalog import handlers, importing
from services.catalog import inventory_handlers as inventory
from services.catalog.cache import BookCache
from services.catalog.convert import (
    book_to_proto,
    copy_details_from_proto,
    copy_to_proto,
    details_from_proto,
    search_from_proto,
    status_from_proto,
)
from services.catalog.domain import parse_book_name, parse_copy_name, parse_reference
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.idempotency import parse_request_id

Context = grpc.aio.ServicerContext
EMPTY = empty_pb2.Empty()


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(
        self, *, uow: Callable[[], handlers.CatalogUnitOfWork], clock: Clock, cache: BookCache | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = cache if cache is not None else BookCache(capacity=0)

    # Books -----------------------------------------------------------------------------------------

    async def CreateBook(self, request: catalog_pb2.CreateBookRequest, context: Context) -> catalog_pb2.Book:
        """Adds a book."""
        command = handlers.CreateBook(details_from_proto(request.book), parse_request_id(request.request_id))
        return book_to_proto(await handlers.create_book(command, self._uow(), self._clock))

    async def GetBook(self, request: catalog_pb2.GetBookRequest, context: Context) -> catalog_pb2.Book:
        """Returns one book (from the cache of recently read books when it is there)."""
        book_id = parse_book_name(request.name)
        if (cached := self._cache.get(book_id)) is not None:
            return cached
        generation = self._cache.generation()
        book = book_to_proto(await handlers.get_book(book_id, self._uow()))
        self._cache.put(book_id, book, generation)
        return book

    async def ListBooks(self, request: catalog_pb2.ListBooksRequest, context: Context) -> catalog_pb2.ListBooksResponse:
        """Lists books, filtered and ordered."""
        query = handlers.ListBooks(request.page_size, request.page_token, request.filter, request.order_by)
        page = await handlers.list_books(query, self._uow())
        return catalog_pb2.ListBooksResponse(
            books=[book_to_proto(b) for b in page.books],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def UpdateBook(self, request: catalog_pb2.UpdateBookRequest, context: Context) -> catalog_pb2.Book:
        """Changes the fields named in the mask."""
        command = handlers.UpdateBook(
            book_id=parse_book_name(request.book.name, field="book.name"),
            changes=details_from_proto(request.book),
            mask=tuple(request.update_mask.paths),
            etag=request.book.etag,
            request_id=parse_request_id(request.request_id),
        )
        return book_to_proto(await handlers.update_book(command, self._uow(), self._clock))

    async def DeleteBook(self, request: catalog_pb2.DeleteBookRequest, context: Context) -> empty_pb2.Empty:
        """Removes a book and its copies."""
        command = handlers.DeleteBook(parse_book_name(request.name), request.etag, parse_request_id(request.request_id))
        await handlers.delete_book(command, self._uow(), self._clock)
        return EMPTY

    async def SearchBooks(
        self, request: catalog_pb2.SearchBooksRequest, context: Context
    ) -> catalog_pb2.SearchBooksResponse:
        """Ranked search with facet counts."""
        command = handlers.SearchBooks(search_from_proto(request), request.page_size, request.page_token)
        found = await handlers.search_books(command, self._uow())
        return catalog_pb2.SearchBooksResponse(
            results=[
                catalog_pb2.SearchResult(book=book_to_proto(hit.book), score=hit.score, highlights=hit.highlights)
                for hit in found.hits
            ],
            facets=[
                catalog_pb2.Facet(field=name, values=[catalog_pb2.FacetValue(value=v, count=n) for v, n in values])
                for name, values in found.facets.items()
            ],
            next_page_token=found.next_page_token,
            total_size=found.total_size,
        )

    async def ImportBooks(
        self, request_iterator: AsyncIterator[catalog_pb2.ImportBooksRequest], context: Context
    ) -> catalog_pb2.ImportBooksResponse:
        """Bulk-loads books from streamed CSV rows, all or nothing."""
        first = await anext(aiter(request_iterator), None)
        if first is None:
            raise InvalidArgument.field("header", "the stream was empty")

        async def chunks() -> AsyncIterator[importing.ImportChunk]:
            yield importing.ImportChunk(first.header, first.rows)
            async for message in request_iterator:
                yield importing.ImportChunk(message.header, message.rows)

        summary = await importing.import_books(
            chunks(), request_id=parse_request_id(first.request_id), uow=self._uow(), clock=self._clock
        )
        return catalog_pb2.ImportBooksResponse(
            created_count=summary.created,
            updated_count=summary.updated,
            failed_count=summary.failed,
            errors=[catalog_pb2.ImportRowError(row=e.row, message=e.message) for e in summary.errors],
        )

    # Copies ----------------------------------------------------------------------------------------

    async def CreateCopy(self, request: catalog_pb2.CreateCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Adds a copy of a book."""
        command = inventory.CreateCopy(
            book_id=parse_book_name(request.parent, field="parent"),
            details=copy_details_from_proto(request.copy),
            status=status_from_proto(request.copy.status),
            request_id=parse_request_id(request.request_id),
        )
        return copy_to_proto(await inventory.create_copy(command, self._uow(), self._clock))

    async def GetCopy(self, request: catalog_pb2.GetCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Returns one copy."""
        return copy_to_proto(await inventory.get_copy(*parse_copy_name(request.name), self._uow()))

    async def ListCopies(
        self, request: catalog_pb2.ListCopiesRequest, context: Context
    ) -> catalog_pb2.ListCopiesResponse:
        """Lists the copies of a book, or of every book."""
        book_id = None if request.parent == "books/-" else parse_book_name(request.parent, field="parent")
        page = await inventory.list_copies(
            book_id,
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            uow=self._uow(),
        )
        return catalog_pb2.ListCopiesResponse(
            copies=[copy_to_proto(c) for c in page.copies],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def UpdateCopy(self, request: catalog_pb2.UpdateCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Changes the fields named in the mask."""
        book_id, copy_id = parse_copy_name(request.copy.name, field="copy.name")
        command = inventory.UpdateCopy(
            book_id=book_id,
            copy_id=copy_id,
            changes=copy_details_from_proto(request.copy),
            status=status_from_proto(request.copy.status),
            mask=tuple(request.update_mask.paths),
            etag=request.copy.etag,
            request_id=parse_request_id(request.request_id),
        )
        return copy_to_proto(await inventory.update_copy(command, self._uow(), self._clock))

    async def DeleteCopy(self, request: catalog_pb2.DeleteCopyRequest, context: Context) -> empty_pb2.Empty:
        """Removes a copy."""
        book_id, copy_id = parse_copy_name(request.name)
        await inventory.delete_copy(
            book_id,
            copy_id,
            etag=request.etag,
            request_id=parse_request_id(request.request_id),
            uow=self._uow(),
            clock=self._clock,
        )
        return EMPTY

    async def LookupCopy(self, request: catalog_pb2.LookupCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Finds a copy by barcode."""
        return copy_to_proto(await inventory.lookup_copy(request.barcode, self._uow()))

    # Circulation (mesh-internal: the sidecar only lets the loans service call these) ---------------

    async def CheckOutCopy(self, request: catalog_pb2.CheckOutCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Marks a copy ON_LOAN for a loan; idempotent per loan."""
        copy = await inventory.check_out_copy(
            _selector(request),
            loan=parse_reference(request.loan, "loans", field="loan"),
            hold=parse_reference(request.hold, "holds", field="hold", required=False),
            uow=self._uow(),
            clock=self._clock,
        )
        return copy_to_proto(copy)

    async def CheckInCopy(self, request: catalog_pb2.CheckInCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Ends a loan on its copy; idempotent."""
        copy = await inventory.check_in_copy(
            *parse_copy_name(request.name),
            loan=parse_reference(request.loan, "loans", field="loan"),
            hold=parse_reference(request.hold, "holds", field="hold", required=False),
            uow=self._uow(),
            clock=self._clock,
        )
        return copy_to_proto(copy)

    async def ReserveCopy(self, request: catalog_pb2.ReserveCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Puts an available copy on the hold shelf; idempotent per hold."""
        copy = await inventory.reserve_copy(
            parse_book_name(request.book, field="book"),
            hold=parse_reference(request.hold, "holds", field="hold"),
            branch=request.branch.strip(),
            uow=self._uow(),
            clock=self._clock,
        )
        return copy_to_proto(copy)

    async def ReleaseCopy(self, request: catalog_pb2.ReleaseCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Takes a copy off the hold shelf; idempotent."""
        copy = await inventory.release_copy(
            *parse_copy_name(request.name),
            hold=parse_reference(request.hold, "holds", field="hold"),
            uow=self._uow(),
            clock=self._clock,
        )
        return copy_to_proto(copy)


def _selector(request: catalog_pb2.CheckOutCopyRequest) -> inventory.CopySelector:
    match request.WhichOneof("selector"):
        case "copy":
            return inventory.CopySelector(copy=parse_copy_name(request.copy, field="copy"))
        case "barcode" if request.barcode.strip():
            return inventory.CopySelector(barcode=request.barcode.strip())
        case "book":
            return inventory.CopySelector(book_id=parse_book_name(request.book, field="book"))
    raise InvalidArgument.field("selector", "give one of copy, barcode or book")
