"""The fine RPCs (assess, get, list, pay, waive), mixed into LoansServicer.

Their own module because they are the patron's account with the library, not the movement of copies: they
ask the users service only whether the patron exists and touch no copy.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.duration_pb2 import Duration

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.loans.api.convert import current_actor, fine_kind, fine_status, fine_to_proto, list_parent
from services.loans.app import closing, fining
from services.loans.app.peers import Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.fines import FINE
from services.loans.domain.money import money
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.names import canonical_name

Context = grpc.aio.ServicerContext


class FineRpcs:
    """The fine RPCs of LoansService; the servicer that mixes them in sets `_uow`, `_clock`, `_users` and
    `_currency`."""

    _uow: Callable[[], LoansUnitOfWork]
    _clock: Clock
    _users: Users
    _currency: str

    async def AssessFine(self, request: loans_pb2.AssessFineRequest, context: Context) -> resources_pb2.Fine:
        """Charges a patron by hand."""
        fine = request.fine
        command = fining.AssessFine(
            patron=canonical_name(fine.patron),
            amount=fine.amount,
            kind=fine_kind(fine.kind),
            description=fine.description,
            loan=canonical_name(fine.loan),
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        assessed = await fining.assess_fine(
            command, uow=self._uow(), clock=self._clock, users=self._users, currency=self._currency
        )
        return fine_to_proto(assessed)

    async def GetFine(self, request: loans_pb2.GetFineRequest, context: Context) -> resources_pb2.Fine:
        """Returns one fine."""
        command = fining.GetFine(FINE.parse_id(request.name), current_actor())
        return fine_to_proto(await fining.get_fine(command, uow=self._uow()))

    async def ListFines(self, request: loans_pb2.ListFinesRequest, context: Context) -> loans_pb2.ListFinesResponse:
        """Lists fines, newest first, with the total still owed."""
        command = fining.ListFines(
            parent=list_parent(request.parent),
            status=fine_status(request.status),
            page_size=request.page_size,
            page_token=request.page_token,
            actor=current_actor(),
        )
        listing = await fining.list_fines(command, uow=self._uow())
        return loans_pb2.ListFinesResponse(
            fines=[fine_to_proto(f) for f in listing.page.items],
            next_page_token=listing.page.next_page_token,
            total_size=listing.page.total_size,
            outstanding_total=money(listing.outstanding_total),
        )

    async def GetClosingStanding(
        self, request: loans_pb2.GetClosingStandingRequest, context: Context
    ) -> loans_pb2.ClosingStanding:
        """What a patron has out and owes, their charges held a moment for the account's close."""
        command = closing.GetClosingStanding(canonical_name(request.name))
        standing = await closing.closing_standing(command, uow=self._uow(), clock=self._clock)
        held = Duration()
        held.FromTimedelta(standing.charges_held_for)
        return loans_pb2.ClosingStanding(
            loans_out=standing.loans_out,
            fines_outstanding=standing.fines_outstanding,
            amount_owed=money(standing.amount_owed),
            charges_held_for=held,
        )

    async def PayFine(self, request: loans_pb2.PayFineRequest, context: Context) -> resources_pb2.Fine:
        """Records a payment against a fine."""
        command = fining.PayFine(
            FINE.parse_id(request.name),
            request.amount,
            request.payment_method,
            parse_request_id(request.request_id),
            current_actor(),
        )
        return fine_to_proto(await fining.pay_fine(command, uow=self._uow(), clock=self._clock))

    async def WaiveFine(self, request: loans_pb2.WaiveFineRequest, context: Context) -> resources_pb2.Fine:
        """Forgives what is left of a fine."""
        command = fining.WaiveFine(
            FINE.parse_id(request.name), request.reason, parse_request_id(request.request_id), current_actor()
        )
        return fine_to_proto(await fining.waive_fine(command, uow=self._uow(), clock=self._clock))
