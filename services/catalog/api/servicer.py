"""CatalogService servicer: proto -> command -> use case -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
from google.protobuf import empty_pb2

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.catalog.api.branch_rpcs import BranchRpcs
from services.catalog.api.cache import BookCache
from services.catalog.api.convert import (
    book_to_proto,
    books_to_proto,
    copies_to_proto,
    copy_details_from_proto,
    copy_to_proto,
    details_from_proto,
    search_from_proto,
    search_results_to_proto,
    status_from_proto,
)
from services.catalog.api.import_stream import rows_counted_over_the_stream
from services.catalog.api.item_type_rpcs import ItemTypeRpcs
from services.catalog.api.search_cache import SearchCache
from services.catalog.app import books, circulation, copies, importing
from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.books import BOOK
from services.catalog.domain.copies import COPY
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.item_types import ItemTypeFilter
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.names import check_reference

Context = grpc.aio.ServicerContext
EMPTY = empty_pb2.Empty()
ALL_BOOKS = "books/-"


class CatalogServicer(ItemTypeRpcs, BranchRpcs, catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(
        self,
        *,
        uow: Callable[[], CatalogUnitOfWork],
        clock: Clock,
        cache: BookCache | None = None,
        searches: SearchCache | None = None,
        reads: Callable[[], CatalogUnitOfWork] | None = None,
        circulation: Callable[[], CatalogUnitOfWork] | None = None,
        branches: LibraryBranches = ANY_BRANCH,
    ) -> None:
        """`reads`: units of work for the use cases that only read (no transaction); `circulation`: for the
        saga's steps (check-out, check-in, reserve, release), the hottest writes; `uow` when not given.
        `branches`: the library's, which a copy's own branch must be one of when it lists them."""
        self._uow = uow
        self._branches = branches
        self._reads = reads or uow
        self._circulation = circulation or uow
        self._clock = clock
        self._cache = cache if cache is not None else BookCache(capacity=0)
        self._searches = searches if searches is not None else SearchCache(max_bytes=0)

    # Books -----------------------------------------------------------------------------------------

    async def CreateBook(self, request: catalog_pb2.CreateBookRequest, context: Context) -> catalog_pb2.Book:
        """Adds a book."""
        command = books.CreateBook(details_from_proto(request.book), parse_request_id(request.request_id))
        return book_to_proto(await books.create_book(command, uow=self._uow(), clock=self._clock))

    async def GetBook(self, request: catalog_pb2.GetBookRequest, context: Context) -> catalog_pb2.Book:
        """Returns one book (from the cache of recently read books when it is there)."""
        book_id = BOOK.parse_id(request.name)
        if (cached := self._cache.get(book_id)) is not None:
            return cached
        generation = self._cache.generation()
        book = book_to_proto(await books.get_book(books.GetBook(book_id), uow=self._reads()))
        self._cache.put(book_id, book, generation)
        return book

    async def ListBooks(self, request: catalog_pb2.ListBooksRequest, context: Context) -> catalog_pb2.ListBooksResponse:
        """Lists books, filtered and ordered."""
        query = books.ListBooks(request.page_size, request.page_token, request.filter, request.order_by)
        return books_to_proto(await books.list_books(query, uow=self._reads()))

    async def UpdateBook(self, request: catalog_pb2.UpdateBookRequest, context: Context) -> catalog_pb2.Book:
        """Changes the fields named in the mask."""
        command = books.UpdateBook(
            book_id=BOOK.parse_id(request.book.name, field="book.name"),
            changes=details_from_proto(request.book),
            mask=tuple(request.update_mask.paths),
            etag=request.book.etag,
            request_id=parse_request_id(request.request_id),
        )
        return book_to_proto(await books.update_book(command, uow=self._uow(), clock=self._clock))

    async def DeleteBook(self, request: catalog_pb2.DeleteBookRequest, context: Context) -> empty_pb2.Empty:
        """Removes a book and its copies."""
        command = books.DeleteBook(BOOK.parse_id(request.name), request.etag, parse_request_id(request.request_id))
        await books.delete_book(command, uow=self._uow(), clock=self._clock)
        return EMPTY

    async def SearchBooks(
        self, request: catalog_pb2.SearchBooksRequest, context: Context
    ) -> catalog_pb2.SearchBooksResponse:
        """Ranked search with facet counts (from the cache of recent answers when it is there)."""
        key = self._searches.key(request)
        if (cached := self._searches.get(key)) is not None:
            return cached
        generation = self._searches.generation()
        command = books.SearchBooks(search_from_proto(request), request.page_size, request.page_token)
        found = await books.search_books(command, uow=self._reads())
        answer = search_results_to_proto(found)
        shown = [hit.book.id for hit in found.page.items]
        available_only = command.search.filters.available_only
        self._searches.put(key, answer, books=shown, on_availability=available_only, generation=generation)
        return answer

    async def ImportBooks(
        self, request_iterator: AsyncIterator[catalog_pb2.ImportBooksRequest], context: Context
    ) -> catalog_pb2.ImportBooksResponse:
        """Bulk-loads books from streamed CSV rows, all or nothing."""
        request_iterator = rows_counted_over_the_stream(request_iterator)
        first = await anext(aiter(request_iterator), None)
        if first is None:
            raise InvalidArgument.field("header", "the stream was empty")

        async def chunks() -> AsyncIterator[importing.ImportChunk]:
            yield importing.ImportChunk(first.header, first.rows)
            async for message in request_iterator:
                yield importing.ImportChunk(message.header, message.rows)

        command = importing.ImportBooks(chunks(), parse_request_id(first.request_id))
        summary = await importing.import_books(command, uow=self._uow(), clock=self._clock, branches=self._branches)
        return catalog_pb2.ImportBooksResponse(
            created_count=summary.created,
            updated_count=summary.updated,
            failed_count=summary.failed,
            errors=[catalog_pb2.ImportRowError(row=e.row, message=e.message) for e in summary.errors],
        )

    # Copies ----------------------------------------------------------------------------------------

    async def CreateCopy(self, request: catalog_pb2.CreateCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Adds a copy of a book."""
        command = copies.CreateCopy(
            book_id=BOOK.parse_id(request.parent, field="parent"),
            details=copy_details_from_proto(request.copy),
            status=status_from_proto(request.copy.status),
            request_id=parse_request_id(request.request_id),
        )
        copy = await copies.create_copy(command, uow=self._uow(), clock=self._clock, branches=self._branches)
        return copy_to_proto(copy)

    async def GetCopy(self, request: catalog_pb2.GetCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Returns one copy."""
        book_id, copy_id = COPY.parse(request.name)
        query = copies.GetCopy(book_id, copy_id)
        return copy_to_proto(await copies.get_copy(query, uow=self._reads()))

    async def ListCopies(
        self, request: catalog_pb2.ListCopiesRequest, context: Context
    ) -> catalog_pb2.ListCopiesResponse:
        """Lists the copies of a book, or of every book."""
        book_id = None if request.parent == ALL_BOOKS else BOOK.parse_id(request.parent, field="parent")
        query = copies.ListCopies(book_id, request.page_size, request.page_token, request.filter)
        return copies_to_proto(await copies.list_copies(query, uow=self._reads()))

    async def UpdateCopy(self, request: catalog_pb2.UpdateCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Changes the fields named in the mask."""
        book_id, copy_id = COPY.parse(request.copy.name, field="copy.name")
        command = copies.UpdateCopy(
            book_id=book_id,
            copy_id=copy_id,
            changes=copy_details_from_proto(request.copy),
            status=status_from_proto(request.copy.status),
            mask=tuple(request.update_mask.paths),
            etag=request.copy.etag,
            request_id=parse_request_id(request.request_id),
        )
        copy = await copies.update_copy(command, uow=self._uow(), clock=self._clock, branches=self._branches)
        return copy_to_proto(copy)

    async def DeleteCopy(self, request: catalog_pb2.DeleteCopyRequest, context: Context) -> empty_pb2.Empty:
        """Removes a copy."""
        book_id, copy_id = COPY.parse(request.name)
        command = copies.DeleteCopy(book_id, copy_id, request.etag, parse_request_id(request.request_id))
        await copies.delete_copy(command, uow=self._uow(), clock=self._clock)
        return EMPTY

    async def LookupCopy(self, request: catalog_pb2.LookupCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Finds a copy by barcode."""
        return copy_to_proto(await copies.lookup_copy(copies.LookupCopy(request.barcode), uow=self._reads()))

    # Circulation (mesh-internal: the sidecar only lets the loans service call these) ---------------

    async def CheckOutCopy(self, request: catalog_pb2.CheckOutCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Marks a copy ON_LOAN for a loan; idempotent per loan."""
        command = circulation.CheckOutCopy(
            _selector(request),
            loan=check_reference(request.loan, "loans", field="loan"),
            hold=check_reference(request.hold, "holds", field="hold", required=False),
            item_types=ItemTypeFilter.of(request.item_types, request.excluded_item_types),
        )
        return copy_to_proto(await circulation.check_out_copy(command, uow=self._circulation(), clock=self._clock))

    async def CheckInCopy(self, request: catalog_pb2.CheckInCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Ends a loan on its copy; idempotent."""
        book_id, copy_id = COPY.parse(request.name)
        command = circulation.CheckInCopy(
            book_id,
            copy_id,
            loan=check_reference(request.loan, "loans", field="loan"),
            hold=check_reference(request.hold, "holds", field="hold", required=False),
            lost=request.lost,
            in_transit=request.in_transit,
        )
        return copy_to_proto(await circulation.check_in_copy(command, uow=self._circulation(), clock=self._clock))

    async def ReserveCopy(self, request: catalog_pb2.ReserveCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Sets an available copy aside for a hold (IN_TRANSIT for it); idempotent per hold."""
        command = circulation.ReserveCopy(
            BOOK.parse_id(request.book, field="book"),
            hold=check_reference(request.hold, "holds", field="hold"),
            branch=request.branch.strip(),
            item_types=ItemTypeFilter.of(request.item_types, request.excluded_item_types),
        )
        reserved = await circulation.reserve_copy(
            command, uow=self._circulation(), clock=self._clock, branches=self._branches
        )
        return copy_to_proto(reserved)

    async def BatchGetBookAvailability(
        self, request: catalog_pb2.BatchGetBookAvailabilityRequest, context: Context
    ) -> catalog_pb2.BatchGetBookAvailabilityResponse:
        """How many copies of each book named are available; a book the catalog does not have is left out."""
        ids = [BOOK.parse_id(name, field="books") for name in request.books]
        found = await books.get_availability(books.GetAvailability(tuple(ids)), uow=self._reads())
        return catalog_pb2.BatchGetBookAvailabilityResponse(
            books=[
                catalog_pb2.BookAvailability(book=BOOK.format(book_id), available_copies=found[book_id])
                for book_id in dict.fromkeys(ids)
                if book_id in found
            ]
        )

    async def ReleaseCopy(self, request: catalog_pb2.ReleaseCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Takes a copy off the hold shelf; idempotent."""
        book_id, copy_id = COPY.parse(request.name)
        command = circulation.ReleaseCopy(book_id, copy_id, hold=check_reference(request.hold, "holds", field="hold"))
        return copy_to_proto(await circulation.release_copy(command, uow=self._circulation(), clock=self._clock))

    async def ShelveHeldCopy(self, request: catalog_pb2.ShelveHeldCopyRequest, context: Context) -> catalog_pb2.Copy:
        """Puts a copy in transit for a hold on the hold shelf; idempotent."""
        book_id, copy_id = COPY.parse(request.name)
        hold = check_reference(request.hold, "holds", field="hold")
        command = circulation.ShelveHeldCopy(book_id, copy_id, hold=hold)
        return copy_to_proto(await circulation.shelve_held_copy(command, uow=self._circulation(), clock=self._clock))

    async def ReportHeldCopyMissing(
        self, request: catalog_pb2.ReportHeldCopyMissingRequest, context: Context
    ) -> catalog_pb2.Copy:
        """A copy set aside for a hold was not found (LOST), or taken out of circulation; idempotent."""
        book_id, copy_id = COPY.parse(request.name)
        hold = check_reference(request.hold, "holds", field="hold")
        status = status_from_proto(request.status) or CopyStatus.LOST
        command = circulation.ReportHeldCopyMissing(book_id, copy_id, hold=hold, status=status)
        missing = await circulation.report_held_copy_missing(command, uow=self._circulation(), clock=self._clock)
        return copy_to_proto(missing)

    async def SendCopyHome(self, request: catalog_pb2.SendCopyHomeRequest, context: Context) -> catalog_pb2.Copy:
        """A copy released from another branch's hold shelf: IN_TRANSIT home; idempotent."""
        book_id, copy_id = COPY.parse(request.name)
        command = circulation.SendCopyHome(book_id, copy_id, from_branch=request.from_branch)
        return copy_to_proto(await circulation.send_copy_home(command, uow=self._circulation(), clock=self._clock))

    async def ReceiveCopyHome(self, request: catalog_pb2.ReceiveCopyHomeRequest, context: Context) -> catalog_pb2.Copy:
        """A copy moving between branches scanned at a desk: AVAILABLE at its own branch; idempotent."""
        book_id, copy_id = COPY.parse(request.name)
        command = circulation.ReceiveCopyHome(book_id, copy_id, branch=request.branch, take_in=request.take_in)
        return copy_to_proto(await circulation.receive_copy_home(command, uow=self._circulation(), clock=self._clock))


def _selector(request: catalog_pb2.CheckOutCopyRequest) -> circulation.CopySelector:
    match request.WhichOneof("selector"):
        case "copy":
            book_id, copy_id = COPY.parse(request.copy, field="copy")
            return circulation.CopySelector(copy=(book_id, copy_id))
        case "barcode" if request.barcode.strip():
            return circulation.CopySelector(barcode=request.barcode.strip())
        case "book":
            return circulation.CopySelector(book_id=BOOK.parse_id(request.book, field="book"))
    raise InvalidArgument.field("selector", "give one of copy, barcode or book")
