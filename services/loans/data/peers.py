"""The users and catalog services over the mesh (through our sidecar), as the ports in app/peers.py.

Peer failures become our domain errors: NOT_FOUND stays NotFound, FAILED_PRECONDITION keeps the peer's
ErrorInfo reason, ABORTED (a race the peer lost) stays a Conflict with the peer's reason (a lost update is
repeated by the runtime, as our own are), and anything that means "could not reach it" becomes
DependencyUnavailable (UNAVAILABLE). A peer's step may have happened even when its answer was lost: the
catalog's copy operations are idempotent per the loan or hold they serve (a repeat finds what the first
call did), so the retry the client is told to make is safe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC
from typing import TypeVar
from urllib.parse import quote

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.loans.domain.borrowing import BookTitle, CopyInfo, Eligibility
from services.loans.domain.item_types import ANY_ITEM_TYPE, ItemTypes
from services.support.runtime.errors import (
    Conflict,
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from services.support.runtime.versioning import version_of

T = TypeVar("T")
_UNREACHABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.PERMISSION_DENIED,  # the mesh's RBAC refused us: a deployment fault, not the client's
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
AVAILABILITY_BATCH = 100
"""Books asked about in one BatchGetBookAvailability (the most it takes)."""
_COPY_STATUS = {value: name.removeprefix("COPY_STATUS_") for name, value in catalog_pb2.CopyStatus.items()}


def _info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info) and info.reason:
            return info
    return error_details_pb2.ErrorInfo()


def _reason(error: grpc.aio.AioRpcError, default: str) -> str:
    return _info(error).reason or default


def _refused_by(peer: str, error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The peer's ErrorInfo metadata (e.g. the catalog's `status` of a copy it would not lend: finding D14), and
    which peer refused."""
    return {**dict(_info(error).metadata), "peer": peer}


async def _call(peer: str, resource: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        code, details = error.code(), error.details() or ""
        if code == grpc.StatusCode.NOT_FOUND:
            raise NotFound(resource, details or f"{resource} not found") from None
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            raise FailedPrecondition(
                details, reason=_reason(error, "PEER_REFUSED"), metadata=_refused_by(peer, error)
            ) from None
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            raise InvalidArgument.field(resource or "request", details) from None
        if code == grpc.StatusCode.ALREADY_EXISTS:
            raise FailedPrecondition(details, reason=_reason(error, "PEER_CONFLICT"), metadata={"peer": peer}) from None
        if code == grpc.StatusCode.ABORTED:
            raise Conflict(
                f"the {peer} service met a concurrent change; retry", reason=_reason(error, "PEER_CONFLICT"),
                metadata={"peer": peer}, retry_after=1.0,
            ) from None  # fmt: skip
        raise DependencyUnavailable(
            f"the {peer} service is unavailable; retry later (with the same request_id)",
            reason=f"{peer.upper()}_UNAVAILABLE",
            retry_after=1.0,
        ) from None


def copy_info(copy: catalog_pb2.Copy) -> CopyInfo:
    return CopyInfo(
        name=copy.name,
        book=copy.name.split("/copies/")[0],
        barcode=copy.barcode,
        item_type=(copy.item_type or "BOOK").upper(),
        status=_COPY_STATUS.get(copy.status, "UNSPECIFIED"),
        current_loan=copy.current_loan,
        current_hold=copy.current_hold,
        branch=copy.branch,
        call_number=copy.call_number,
        shelf_location=copy.shelf_location,
        book_title=copy.book_title,
        book_language=copy.book_language,
        changed_at=copy.update_time.ToDatetime(tzinfo=UTC) if copy.HasField("update_time") else None,
        sent=copy.sent_for_hold,
        version=version_of(copy.etag),
        not_for_loan=copy.not_for_loan,
        item_type_renamed_at=(
            copy.item_type_rename_time.ToDatetime(tzinfo=UTC) if copy.HasField("item_type_rename_time") else None
        ),
    )


def _filter(item_types: ItemTypes) -> tuple[list[str], list[str]]:
    """The request's `item_types` and `excluded_item_types` (both empty for any type). They cannot say "no
    type": a caller refuses before it asks for a copy of none."""
    if item_types.admits_none:
        raise ValueError("a copy of no item type was asked for")
    return sorted(item_types.only or ()), sorted(item_types.excluded)


class GrpcUsers:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = users_pb2_grpc.UsersServiceStub(channel)
        self._timeout = timeout

    async def account(self, patron: str) -> Eligibility:
        return await self.eligibility(patron)  # the users service's own answer

    async def eligibility(self, patron: str) -> Eligibility:
        request = users_pb2.GetBorrowingEligibilityRequest(name=patron)
        answer = await _call("users", patron, self._stub.GetBorrowingEligibility(request, timeout=self._timeout))
        return Eligibility(
            patron=answer.name or patron,
            eligible=answer.eligible,
            patron_category=(answer.patron_category or "ADULT").upper(),
            reasons=tuple(answer.reasons),
            home_branch=answer.home_branch,
            closed=answer.status == users_pb2.USER_STATUS_DEACTIVATED,
        )


class GrpcCatalog:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        self._timeout = timeout

    async def book_title(self, book: str) -> BookTitle:
        answer = await _call(
            "catalog", book, self._stub.GetBook(catalog_pb2.GetBookRequest(name=book), timeout=self._timeout)
        )
        return BookTitle(answer.title, answer.language)

    async def has_item_type(self, code: str) -> bool:
        name = f"itemTypes/{quote(code, safe='')}"  # a code from before the rule may hold "/", "%" or a space
        call = self._stub.GetItemType(catalog_pb2.GetItemTypeRequest(name=name), timeout=self._timeout)
        try:
            await _call("catalog", name, call)
        except NotFound:
            return False
        return True

    async def item_type_codes(self) -> set[str]:
        codes: set[str] = set()
        token = ""
        while True:
            request = catalog_pb2.ListItemTypesRequest(page_size=100, page_token=token)
            page = await _call("catalog", "itemTypes", self._stub.ListItemTypes(request, timeout=self._timeout))
            codes.update(item_type.code for item_type in page.item_types)
            token = page.next_page_token
            if not token:
                return codes

    async def lookup_copy(self, barcode: str) -> CopyInfo:
        request = catalog_pb2.LookupCopyRequest(barcode=barcode)
        return copy_info(
            await _call("catalog", f"copies/-?barcode={barcode}", self._stub.LookupCopy(request, timeout=self._timeout))
        )

    async def get_copy(self, name: str) -> CopyInfo:
        return copy_info(
            await _call(
                "catalog", name, self._stub.GetCopy(catalog_pb2.GetCopyRequest(name=name), timeout=self._timeout)
            )
        )

    async def copies_of(self, book: str) -> list[CopyInfo]:
        return [copy async for copy in self._pages(book, "")]

    async def copies_in_circulation(self) -> list[CopyInfo]:
        return [
            copy
            for status in ("ON_LOAN", "ON_HOLD_SHELF", "IN_TRANSIT")
            async for copy in self._pages("books/-", f"status = {status}")
        ]

    async def availability(self, books: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(books), AVAILABILITY_BATCH):
            request = catalog_pb2.BatchGetBookAvailabilityRequest(books=books[start : start + AVAILABILITY_BATCH])
            call = self._stub.BatchGetBookAvailability(request, timeout=self._timeout)
            answer = await _call("catalog", "books", call)
            found.update((book.book, book.available_copies) for book in answer.books)
        return found

    async def _pages(self, parent: str, filter_: str) -> AsyncIterator[CopyInfo]:
        token = ""
        while True:
            request = catalog_pb2.ListCopiesRequest(parent=parent, filter=filter_, page_size=100, page_token=token)
            page = await _call("catalog", parent, self._stub.ListCopies(request, timeout=self._timeout))
            for copy in page.copies:
                yield copy_info(copy)
            token = page.next_page_token
            if not token:
                return

    async def check_out(
        self, *, selector: tuple[str, str], loan: str, hold: str, item_types: ItemTypes = ANY_ITEM_TYPE
    ) -> CopyInfo:
        kind, value = selector
        only, excluded = _filter(item_types)
        request = catalog_pb2.CheckOutCopyRequest(
            loan=loan, hold=hold, item_types=only, excluded_item_types=excluded, **{kind: value}
        )
        return copy_info(await _call("catalog", value, self._stub.CheckOutCopy(request, timeout=self._timeout)))

    async def check_in(
        self, *, copy: str, loan: str, hold: str, lost: bool = False, in_transit: bool = False
    ) -> CopyInfo:
        request = catalog_pb2.CheckInCopyRequest(name=copy, loan=loan, hold=hold, lost=lost, in_transit=in_transit)
        return copy_info(await _call("catalog", copy, self._stub.CheckInCopy(request, timeout=self._timeout)))

    async def reserve(self, *, book: str, hold: str, branch: str, item_types: ItemTypes = ANY_ITEM_TYPE) -> CopyInfo:
        only, excluded = _filter(item_types)
        request = catalog_pb2.ReserveCopyRequest(
            book=book, hold=hold, branch=branch, item_types=only, excluded_item_types=excluded
        )
        return copy_info(await _call("catalog", book, self._stub.ReserveCopy(request, timeout=self._timeout)))

    async def release(self, *, copy: str, hold: str) -> CopyInfo:
        request = catalog_pb2.ReleaseCopyRequest(name=copy, hold=hold)
        return copy_info(await _call("catalog", copy, self._stub.ReleaseCopy(request, timeout=self._timeout)))

    async def shelve(self, *, copy: str, hold: str) -> CopyInfo:
        request = catalog_pb2.ShelveHeldCopyRequest(name=copy, hold=hold)
        return copy_info(await _call("catalog", copy, self._stub.ShelveHeldCopy(request, timeout=self._timeout)))

    async def report_missing(self, *, copy: str, hold: str, status: str = "LOST") -> CopyInfo:
        request = catalog_pb2.ReportHeldCopyMissingRequest(
            name=copy, hold=hold, status=catalog_pb2.CopyStatus.Value(f"COPY_STATUS_{status}")
        )
        call = self._stub.ReportHeldCopyMissing(request, timeout=self._timeout)
        return copy_info(await _call("catalog", copy, call))

    async def send_home(self, *, copy: str, from_branch: str) -> CopyInfo:
        request = catalog_pb2.SendCopyHomeRequest(name=copy, from_branch=from_branch)
        return copy_info(await _call("catalog", copy, self._stub.SendCopyHome(request, timeout=self._timeout)))

    async def receive_home(self, *, copy: str, branch: str, take_in: bool = False) -> CopyInfo:
        request = catalog_pb2.ReceiveCopyHomeRequest(name=copy, branch=branch, take_in=take_in)
        return copy_info(await _call("catalog", copy, self._stub.ReceiveCopyHome(request, timeout=self._timeout)))
