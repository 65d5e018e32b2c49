"""LoansService servicer: proto -> command -> handler -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

import grpc
from google.protobuf.empty_pb2 import Empty

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc, resources_pb2
from services.loans import fine_handlers, handlers, hold_handlers, issuing, reconciliation, rule_handlers
from services.loans.borrowing import SYSTEM, Actor, Role
from services.loans.convert import (
    fine_kind,
    fine_status,
    fine_to_proto,
    hold_status,
    hold_to_proto,
    loan_status,
    loan_to_proto,
    rule_to_proto,
    terms_from_proto,
)
from services.loans.domain import parse_name
from services.loans.rules import money
from services.support.runtime.auth import current_identity
from services.support.runtime.idempotency import parse_request_id

Context = grpc.aio.ServicerContext


def current_actor() -> Actor:
    """The signed-in user the edge vouched for; the system when a peer calls on its own behalf."""
    identity = current_identity()
    return Actor(user=identity.subject, role=Role(identity.role.value)) if identity else SYSTEM


class LoansServicer(loans_pb2_grpc.LoansServiceServicer):
    def __init__(self, circulation: handlers.Circulation) -> None:
        self._c = circulation

    def _loan(self, loan: object) -> resources_pb2.Loan:
        return loan_to_proto(loan, now=self._c.clock.now())  # type: ignore[arg-type]

    async def IssueLoan(self, request: loans_pb2.IssueLoanRequest, context: Context) -> resources_pb2.Loan:
        """Lends a copy to a patron (the saga)."""
        command = issuing.IssueLoan(
            patron=request.patron,
            barcode=request.barcode,
            book=request.book,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        return self._loan(await issuing.issue_loan(command, self._c))

    async def GetLoan(self, request: loans_pb2.GetLoanRequest, context: Context) -> resources_pb2.Loan:
        """Returns one loan."""
        return self._loan(await handlers.get_loan(parse_name(request.name, "loans"), current_actor(), self._c))

    async def ListLoans(self, request: loans_pb2.ListLoansRequest, context: Context) -> loans_pb2.ListLoansResponse:
        """Lists loans, newest first."""
        query = handlers.ListLoans(
            parent=request.parent,
            status=loan_status(request.status),
            overdue_only=request.overdue_only,
            book=request.book,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await handlers.list_loans(query, current_actor(), self._c)
        return loans_pb2.ListLoansResponse(
            loans=[self._loan(loan) for loan in page.loans],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def ReturnLoan(self, request: loans_pb2.ReturnLoanRequest, context: Context) -> resources_pb2.Loan:
        """Takes a copy back."""
        command = handlers.ReturnLoan(
            loan_id=parse_name(request.name, "loans") if request.name else None,
            barcode=request.barcode,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        return self._loan(await handlers.return_loan(command, self._c))

    async def RenewLoan(self, request: loans_pb2.RenewLoanRequest, context: Context) -> resources_pb2.Loan:
        """Extends the due time."""
        command = handlers.RenewLoan(
            parse_name(request.name, "loans"), parse_request_id(request.request_id), current_actor()
        )
        return self._loan(await handlers.renew_loan(command, self._c))

    async def CreateCirculationRule(
        self, request: loans_pb2.CreateCirculationRuleRequest, context: Context
    ) -> resources_pb2.CirculationRule:
        """Adds a circulation rule."""
        terms = terms_from_proto(request.circulation_rule)
        rule = await rule_handlers.create_rule(terms, parse_request_id(request.request_id), current_actor(), self._c)
        return rule_to_proto(rule)

    async def GetCirculationRule(
        self, request: loans_pb2.GetCirculationRuleRequest, context: Context
    ) -> resources_pb2.CirculationRule:
        """Returns one circulation rule."""
        return rule_to_proto(await rule_handlers.get_rule(parse_name(request.name, "circulationRules"), self._c))

    async def ListCirculationRules(
        self, request: loans_pb2.ListCirculationRulesRequest, context: Context
    ) -> loans_pb2.ListCirculationRulesResponse:
        """Lists circulation rules, most specific first."""
        rules, token, total = await rule_handlers.list_rules(
            patron_category=request.patron_category,
            item_type=request.item_type,
            page_size=request.page_size,
            page_token=request.page_token,
            c=self._c,
        )
        return loans_pb2.ListCirculationRulesResponse(
            circulation_rules=[rule_to_proto(r) for r in rules], next_page_token=token, total_size=total
        )

    async def UpdateCirculationRule(
        self, request: loans_pb2.UpdateCirculationRuleRequest, context: Context
    ) -> resources_pb2.CirculationRule:
        """Changes the fields named in update_mask."""
        rule = await rule_handlers.update_rule(
            parse_name(request.circulation_rule.name, "circulationRules", field_name="circulation_rule.name"),
            terms_from_proto(request.circulation_rule),
            list(request.update_mask.paths),
            etag=request.circulation_rule.etag,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
            c=self._c,
        )
        return rule_to_proto(rule)

    async def DeleteCirculationRule(self, request: loans_pb2.DeleteCirculationRuleRequest, context: Context) -> Empty:
        """Removes a circulation rule."""
        await rule_handlers.delete_rule(
            parse_name(request.name, "circulationRules"),
            etag=request.etag,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
            c=self._c,
        )
        return Empty()

    async def AssessFine(self, request: loans_pb2.AssessFineRequest, context: Context) -> resources_pb2.Fine:
        """Charges a patron by hand."""
        fine = request.fine
        command = fine_handlers.AssessFine(
            patron=fine.patron,
            amount=fine.amount,
            kind=fine_kind(fine.kind),
            description=fine.description,
            loan=fine.loan,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        return fine_to_proto(await fine_handlers.assess_fine(command, self._c))

    async def GetFine(self, request: loans_pb2.GetFineRequest, context: Context) -> resources_pb2.Fine:
        """Returns one fine."""
        return fine_to_proto(await fine_handlers.get_fine(parse_name(request.name, "fines"), current_actor(), self._c))

    async def ListFines(self, request: loans_pb2.ListFinesRequest, context: Context) -> loans_pb2.ListFinesResponse:
        """Lists fines, newest first, with the total still owed."""
        page, token, outstanding = await fine_handlers.list_fines(
            parent=request.parent,
            status=fine_status(request.status),
            page_size=request.page_size,
            page_token=request.page_token,
            actor=current_actor(),
            c=self._c,
        )
        return loans_pb2.ListFinesResponse(
            fines=[fine_to_proto(f) for f in page.items],
            next_page_token=token,
            total_size=page.total_size,
            outstanding_total=money(outstanding),
        )

    async def PayFine(self, request: loans_pb2.PayFineRequest, context: Context) -> resources_pb2.Fine:
        """Records a payment against a fine."""
        fine = await fine_handlers.pay_fine(
            parse_name(request.name, "fines"),
            request.amount,
            request.payment_method,
            parse_request_id(request.request_id),
            current_actor(),
            self._c,
        )
        return fine_to_proto(fine)

    async def WaiveFine(self, request: loans_pb2.WaiveFineRequest, context: Context) -> resources_pb2.Fine:
        """Forgives what is left of a fine."""
        fine = await fine_handlers.waive_fine(
            parse_name(request.name, "fines"),
            request.reason,
            parse_request_id(request.request_id),
            current_actor(),
            self._c,
        )
        return fine_to_proto(fine)

    async def PlaceHold(self, request: loans_pb2.PlaceHoldRequest, context: Context) -> resources_pb2.Hold:
        """Reserves a book for a patron."""
        command = hold_handlers.PlaceHold(
            patron=request.hold.patron,
            book=request.hold.book,
            pickup_branch=request.hold.pickup_branch,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        return hold_to_proto(await hold_handlers.place_hold(command, self._c))

    async def GetHold(self, request: loans_pb2.GetHoldRequest, context: Context) -> resources_pb2.Hold:
        """Returns one hold with its queue position."""
        hold = await hold_handlers.get_hold(parse_name(request.name, "holds"), current_actor(), self._c)
        return hold_to_proto(hold)

    async def ListHolds(self, request: loans_pb2.ListHoldsRequest, context: Context) -> loans_pb2.ListHoldsResponse:
        """Lists holds in queue order."""
        query = hold_handlers.ListHolds(
            parent=request.parent,
            status=hold_status(request.status),
            book=request.book,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        holds, token, total = await hold_handlers.list_holds(query, current_actor(), self._c)
        return loans_pb2.ListHoldsResponse(
            holds=[hold_to_proto(h) for h in holds], next_page_token=token, total_size=total
        )

    async def CancelHold(self, request: loans_pb2.CancelHoldRequest, context: Context) -> resources_pb2.Hold:
        """Cancels a WAITING or READY hold."""
        command = hold_handlers.CancelHold(
            parse_name(request.name, "holds"), request.reason, parse_request_id(request.request_id), current_actor()
        )
        return hold_to_proto(await hold_handlers.cancel_hold(command, self._c))

    async def ReconcileCirculation(
        self, request: loans_pb2.ReconcileCirculationRequest, context: Context
    ) -> loans_pb2.ReconcileCirculationResponse:
        """Brings circulation up to date now and reports drift."""
        rule_handlers.ensure_admin(current_actor())
        report = await reconciliation.reconcile(self._c, dry_run=request.dry_run)
        return loans_pb2.ReconcileCirculationResponse(
            overdue_loans=report.overdue_loans,
            fines_assessed=report.fines_assessed,
            holds_expired=report.holds_expired,
            holds_made_ready=report.holds_made_ready,
            discrepancies=report.discrepancies,
        )
