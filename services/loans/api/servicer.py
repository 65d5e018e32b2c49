"""LoansService servicer: proto -> command -> use case -> proto. No rules, no SQL, no status codes here.

The circulation rule RPCs are in rule_rpcs.py, the calendar's in calendar_rpcs.py (mixed in).
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc, resources_pb2
from services.loans.api.calendar_rpcs import ClosedDayRpcs
from services.loans.api.convert import (
    book_filter,
    current_actor,
    fine_kind,
    fine_status,
    fine_to_proto,
    held_copy_status_from_proto,
    hold_status,
    hold_to_proto,
    list_parent,
    loan_status,
    loan_to_proto,
)
from services.loans.api.rule_rpcs import CirculationRuleRpcs
from services.loans.app import (
    fining,
    holding,
    issuing,
    losing,
    missing,
    pickup_changes,
    receiving,
    reconciling,
    renewing,
    returning,
    viewing,
)
from services.loans.app.peers import Catalog, Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.reconciling import ReconcilePolicy
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.fines import FINE
from services.loans.domain.hold_record import COPY, HOLD
from services.loans.domain.loan_record import LOAN
from services.loans.domain.loans import Loan
from services.loans.domain.money import money
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.names import canonical_name

Context = grpc.aio.ServicerContext


class LoansServicer(CirculationRuleRpcs, ClosedDayRpcs, loans_pb2_grpc.LoansServiceServicer):
    """Each call gets a fresh unit of work (`uow()`); the other ports and the settings are shared."""

    def __init__(
        self,
        *,
        uow: Callable[[], LoansUnitOfWork],
        clock: Clock,
        users: Users,
        catalog: Catalog,
        borrowing: BorrowingPolicy,
        currency: str,
        reconcile: ReconcilePolicy,
        after_checkout: Callable[[], None] = issuing.no_fault,
        branches: LibraryBranches = ANY_BRANCH,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._users = users
        self._catalog = catalog
        self._borrowing = borrowing
        self._currency = currency
        self._reconcile = reconcile
        self._after_checkout = after_checkout
        self._branches = branches

    async def _loan(self, loan: Loan) -> resources_pb2.Loan:
        return (await self._loans([loan]))[0]

    async def _loans(self, loans: list[Loan]) -> list[resources_pb2.Loan]:
        """As of now, their overdue days counted on the open days (the closed days read once, if one is late)."""
        now = self._clock.now()
        closed = await viewing.closed_days_for_answers(loans, uow=self._uow(), now=now)
        return [loan_to_proto(loan, now=now, zone=self._borrowing.time_zone, closed=closed) for loan in loans]

    async def IssueLoan(self, request: loans_pb2.IssueLoanRequest, context: Context) -> resources_pb2.Loan:
        """Lends a copy to a patron (the saga)."""
        command = issuing.IssueLoan(
            patron=canonical_name(request.patron),
            barcode=request.barcode,
            book=canonical_name(request.book),
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        loan = await issuing.issue_loan(
            command,
            uow=self._uow(),
            clock=self._clock,
            users=self._users,
            catalog=self._catalog,
            policy=self._borrowing,
            currency=self._currency,
            after_checkout=self._after_checkout,
        )
        return await self._loan(loan)

    async def GetLoan(self, request: loans_pb2.GetLoanRequest, context: Context) -> resources_pb2.Loan:
        """Returns one loan."""
        command = viewing.GetLoan(LOAN.parse_id(request.name), current_actor())
        return await self._loan(await viewing.get_loan(command, uow=self._uow()))

    async def ListLoans(self, request: loans_pb2.ListLoansRequest, context: Context) -> loans_pb2.ListLoansResponse:
        """Lists loans, newest first."""
        command = viewing.ListLoans(
            parent=list_parent(request.parent),
            status=loan_status(request.status),
            overdue_only=request.overdue_only,
            book=book_filter(request.book),
            page_size=request.page_size,
            page_token=request.page_token,
            actor=current_actor(),
        )
        page = await viewing.list_loans(command, uow=self._uow(), clock=self._clock)
        return loans_pb2.ListLoansResponse(
            loans=await self._loans(page.items),
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def ReturnLoan(self, request: loans_pb2.ReturnLoanRequest, context: Context) -> resources_pb2.Loan:
        """Takes a copy back."""
        command = returning.ReturnLoan(
            loan_id=LOAN.parse_id(request.name) if request.name else None,
            barcode=request.barcode,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
            branch=request.branch,
        )
        loan = await returning.return_loan(
            command,
            uow=self._uow(),
            clock=self._clock,
            catalog=self._catalog,
            currency=self._currency,
            zone=self._borrowing.time_zone,
            saga_timeout=self._reconcile.saga_timeout,
            branches=self._branches,
        )
        return await self._loan(loan)

    async def DeclareLoanLost(self, request: loans_pb2.DeclareLoanLostRequest, context: Context) -> resources_pb2.Loan:
        """Ends a loan whose copy will not come back, charging for it."""
        command = losing.DeclareLoanLost(
            LOAN.parse_id(request.name),
            amount=request.amount,
            reason=request.reason,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        loan = await losing.declare_loan_lost(
            command,
            uow=self._uow(),
            clock=self._clock,
            catalog=self._catalog,
            currency=self._currency,
            zone=self._borrowing.time_zone,
        )
        return await self._loan(loan)

    async def RenewLoan(self, request: loans_pb2.RenewLoanRequest, context: Context) -> resources_pb2.Loan:
        """Extends the due time."""
        command = renewing.RenewLoan(LOAN.parse_id(request.name), parse_request_id(request.request_id), current_actor())
        renewed = await renewing.renew_loan(
            command, uow=self._uow(), clock=self._clock, users=self._users, policy=self._borrowing
        )
        return await self._loan(renewed)

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

    async def ReconcileCirculation(
        self, request: loans_pb2.ReconcileCirculationRequest, context: Context
    ) -> loans_pb2.ReconcileCirculationResponse:
        """Brings circulation up to date now and reports drift."""
        command = reconciling.ReconcileCirculation(dry_run=request.dry_run, actor=current_actor())
        report = await reconciling.reconcile_circulation(
            command,
            uow=self._uow(),
            clock=self._clock,
            catalog=self._catalog,
            currency=self._currency,
            policy=self._reconcile,
        )
        return loans_pb2.ReconcileCirculationResponse(
            overdue_loans=report.overdue_loans,
            fines_assessed=report.fines_assessed,
            holds_expired=report.holds_expired,
            holds_made_ready=report.holds_made_ready,
            discrepancies=report.discrepancies,
        )
