"""The hold RPCs (place, get, list, cancel, a copy received at a desk or reported missing), mixed into
LoansServicer.

Their own module because holds are a queue of patrons waiting for a book, apart from the loans of copies
in hand: they share the servicer's ports, not its conversions of loans.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.loans.api.convert import (
    book_filter,
    current_actor,
    held_copy_status_from_proto,
    hold_status,
    hold_to_proto,
    list_parent,
)
from services.loans.app import holding, missing, pickup_changes, receiving
from services.loans.app.peers import Catalog, Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.hold_record import COPY, HOLD
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.names import canonical_name

Context = grpc.aio.ServicerContext


class HoldRpcs:
    """The hold RPCs of LoansService; the servicer that mixes them in sets `_uow`, `_clock`, `_users`,
    `_catalog`, `_borrowing` and `_branches`."""

    _uow: Callable[[], LoansUnitOfWork]
    _clock: Clock
    _users: Users
    _catalog: Catalog
    _borrowing: BorrowingPolicy
    _branches: LibraryBranches

    async def PlaceHold(self, request: loans_pb2.PlaceHoldRequest, context: Context) -> resources_pb2.Hold:
        """Reserves a book for a patron."""
        command = holding.PlaceHold(
            patron=canonical_name(request.hold.patron),
            book=canonical_name(request.hold.book),
            pickup_branch=request.hold.pickup_branch,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        hold = await holding.place_hold(
            command,
            uow=self._uow(),
            clock=self._clock,
            users=self._users,
            catalog=self._catalog,
            policy=self._borrowing,
            branches=self._branches,
        )
        return hold_to_proto(hold)

    async def GetHold(self, request: loans_pb2.GetHoldRequest, context: Context) -> resources_pb2.Hold:
        """Returns one hold with its queue position."""
        command = holding.GetHold(HOLD.parse_id(request.name), current_actor())
        return hold_to_proto(await holding.get_hold(command, uow=self._uow()))

    async def ListHolds(self, request: loans_pb2.ListHoldsRequest, context: Context) -> loans_pb2.ListHoldsResponse:
        """Lists holds in placing order, or by pickup deadline; by branch."""
        command = holding.ListHolds(
            parent=list_parent(request.parent),
            status=hold_status(request.status),
            book=book_filter(request.book),
            filter=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
            actor=current_actor(),
        )
        listed = await holding.list_holds(command, uow=self._uow())
        page = listed.page
        return loans_pb2.ListHoldsResponse(
            holds=[hold_to_proto(h, listed.patrons.get(h.patron)) for h in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def CancelHold(self, request: loans_pb2.CancelHoldRequest, context: Context) -> resources_pb2.Hold:
        """Cancels a WAITING, IN_TRANSIT or READY hold."""
        command = holding.CancelHold(
            HOLD.parse_id(request.name), request.reason, parse_request_id(request.request_id), current_actor()
        )
        hold = await holding.cancel_hold(
            command, uow=self._uow(), clock=self._clock, catalog=self._catalog, zone=self._borrowing.time_zone
        )
        return hold_to_proto(hold)

    async def UpdateHold(self, request: loans_pb2.UpdateHoldRequest, context: Context) -> resources_pb2.Hold:
        """Changes a WAITING hold's pickup branch; it keeps its place in the queue."""
        command = pickup_changes.UpdateHold(
            HOLD.parse_id(request.hold.name, field="hold.name"),
            pickup_branch=request.hold.pickup_branch,
            update_mask=tuple(request.update_mask.paths),
            etag=request.hold.etag,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        hold = await pickup_changes.update_hold(
            command, uow=self._uow(), clock=self._clock, catalog=self._catalog, zone=self._borrowing.time_zone
        )
        return hold_to_proto(hold)

    async def ReceiveHoldCopy(self, request: loans_pb2.ReceiveHoldCopyRequest, context: Context) -> resources_pb2.Hold:
        """A copy set aside for a hold reaches a desk: READY at its pickup branch."""
        command = receiving.ReceiveHoldCopy(
            request.barcode, request.branch, parse_request_id(request.request_id), current_actor()
        )
        hold = await receiving.receive_hold_copy(
            command,
            uow=self._uow(),
            clock=self._clock,
            catalog=self._catalog,
            zone=self._borrowing.time_zone,
            branches=self._branches,
        )
        return hold_to_proto(hold)

    async def ReportHoldCopyMissing(
        self, request: loans_pb2.ReportHoldCopyMissingRequest, context: Context
    ) -> resources_pb2.Hold:
        """The copy set aside for a hold is missing (LOST) or taken out of circulation: the hold served again."""
        copy = COPY.format(*COPY.parse(request.copy, field="copy")) if request.copy else ""
        command = missing.ReportHoldCopyMissing(
            HOLD.parse_id(request.name),
            copy,
            parse_request_id(request.request_id),
            current_actor(),
            copy_status=held_copy_status_from_proto(request.copy_status),
            etag=request.etag,
        )
        hold = await missing.report_hold_copy_missing(
            command, uow=self._uow(), clock=self._clock, catalog=self._catalog, zone=self._borrowing.time_zone
        )
        return hold_to_proto(hold)
