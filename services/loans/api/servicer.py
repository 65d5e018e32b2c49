"""LoansService servicer: proto -> command -> use case -> proto. No rules, no SQL, no status codes here.

The hold RPCs are in hold_rpcs.py, the fines' in fine_rpcs.py, the circulation rule RPCs in rule_rpcs.py and
the calendar's in calendar_rpcs.py (mixed in).
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc, resources_pb2
from services.loans.api.calendar_rpcs import ClosedDayRpcs
from services.loans.api.convert import book_filter, current_actor, list_parent, loan_status, loan_to_proto
from services.loans.api.fine_rpcs import FineRpcs
from services.loans.api.hold_rpcs import HoldRpcs
from services.loans.api.rule_rpcs import CirculationRuleRpcs
from services.loans.app import issuing, losing, reconciling, renewing, returning, viewing
from services.loans.app.peers import Catalog, Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.reconciling import ReconcilePolicy
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.loan_record import LOAN
from services.loans.domain.loans import Loan
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.names import canonical_name

Context = grpc.aio.ServicerContext


class LoansServicer(HoldRpcs, FineRpcs, CirculationRuleRpcs, ClosedDayRpcs, loans_pb2_grpc.LoansServiceServicer):
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
