"""Fine use cases: staff charges, payments and waivers (each with an audit entry), reading and listing; and
the overdue fine a late loan accrues (on return and by the reconciler)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from services.loans.app.closing import ensure_charges_not_held
from services.loans.app.list_requests import FineFilter, PageRequest
from services.loans.app.pages import newest_first_after
from services.loans.app.peers import Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.actors import SYSTEM, Actor, patron_scope
from services.loans.domain.borrowing import Eligibility
from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDays
from services.loans.domain.fines import FINE, Fine, FineKind, FineStatus
from services.loans.domain.loan_record import LOAN
from services.loans.domain.loans import Loan
from services.loans.domain.money import parse_amount
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument
from services.support.runtime.identity import ME
from services.support.runtime.names import check_reference
from services.support.runtime.pagination import fingerprint, page_size
from services.support.runtime.paging import Page


@dataclass(frozen=True, slots=True)
class AssessFine:
    patron: str
    amount: str
    kind: FineKind = FineKind.OTHER
    description: str = ""
    loan: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def assess_fine(cmd: AssessFine, *, uow: LoansUnitOfWork, clock: Clock, users: Users, currency: str) -> Fine:
    """A charge by hand (lost or damaged item, other fees), on an account users knows and has not closed
    ("users/me": the caller), and on one of their loans when a loan is named."""
    cmd.actor.ensure_staff("charge fines")
    patron = cmd.actor.user if cmd.patron == ME else cmd.patron
    check_reference(patron, "users", field="fine.patron")
    amount = parse_amount(cmd.amount, field_name="fine.amount")
    if cmd.kind == FineKind.OVERDUE:
        # A loan's overdue fine is one row the system grows while the loan is late (one per loan, by a unique
        # index): a charge by hand would collide with it, or be taken over and grown as if it were it.
        raise InvalidArgument.field(
            "fine.kind", "overdue fines are assessed automatically, one per late loan; charge another kind by hand"
        )
    loan_id = LOAN.parse_id(cmd.loan, field="fine.loan") if cmd.loan else None
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "AssessFine"):
            return await uow.fines.get(FINE.parse_id(previous))
    # NotFound for a patron users does not know; a blocked or expired one still owes, a closed one no more: as
    # the users service has it committed (a projection may not have heard of a close yet).
    asked_at = clock.now()
    _ensure_open(await users.account(patron))
    async with uow:
        await ensure_charges_not_held(patron, asked_at, uow=uow)  # an account being closed (closing.py)
        book = ""
        if loan_id is not None:
            loan = await uow.loans.get(loan_id)  # NotFound when unknown
            _ensure_loan_of(loan, patron)
            book = loan.book
        fine = Fine.assess(
            patron=patron,
            kind=cmd.kind,
            amount=amount,
            currency=currency,
            now=clock.now(),
            actor=cmd.actor.user or "system",
            loan=cmd.loan,
            description=cmd.description,
            book=book,
        )
        await uow.fines.add(fine)
        await uow.requests.remember(cmd.request_id, "AssessFine", fine.name)
        await uow.commit()
    return fine


def _ensure_open(eligibility: Eligibility) -> None:
    """A closed account owes nothing (closing it was refused until it did) and cannot sign in to see a charge, nor
    is it sent notices: a charge after closing (damage found later) is refused, to be taken up with the former
    reader outside the system or after the account is reopened (finding M7)."""
    if eligibility.closed:
        raise FailedPrecondition(
            f"{eligibility.patron} is closed: no fine can be charged to it",
            reason="ACCOUNT_CLOSED",
            metadata={"patron": eligibility.patron},
        )


def _ensure_loan_of(loan: Loan, patron: str) -> None:
    """A fine on a loan is owed by its borrower: another patron's loan would show on the wrong account."""
    if loan.patron != patron:
        raise FailedPrecondition(
            f"{loan.name} is not a loan of {patron}", reason="LOAN_OF_ANOTHER_PATRON", metadata={"loan": loan.name}
        )


@dataclass(frozen=True, slots=True)
class GetFine:
    fine_id: uuid.UUID
    actor: Actor = SYSTEM


async def get_fine(cmd: GetFine, *, uow: LoansUnitOfWork) -> Fine:
    """One fine; readers only their own."""
    async with uow:
        fine = await uow.fines.get(cmd.fine_id)
    cmd.actor.ensure_may_act_for(fine.patron, "see the fines")
    return fine


@dataclass(frozen=True, slots=True)
class PayFine:
    fine_id: uuid.UUID
    amount: str
    method: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def pay_fine(cmd: PayFine, *, uow: LoansUnitOfWork, clock: Clock) -> Fine:
    """Record a payment (at most what is owed); PAID once nothing is left. Staff may record their own (paid in
    cash at the desk like anyone's): the trail names who took it."""
    cmd.actor.ensure_staff("take payments")
    paid = parse_amount(cmd.amount, field_name="amount")
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "PayFine"):
            return await uow.fines.get(FINE.parse_id(previous))
        fine = await uow.fines.get(cmd.fine_id, for_update=True)
        fine.pay(paid, now=clock.now(), actor=cmd.actor.user or "system", method=cmd.method)
        await uow.fines.save(fine)
        await uow.requests.remember(cmd.request_id, "PayFine", fine.name)
        await uow.commit()
    return fine


@dataclass(frozen=True, slots=True)
class WaiveFine:
    fine_id: uuid.UUID
    reason: str
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def waive_fine(cmd: WaiveFine, *, uow: LoansUnitOfWork, clock: Clock) -> Fine:
    """Forgive what is left, with the reason on the audit trail; never on the staff member's own account."""
    cmd.actor.ensure_staff("waive fines")
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "WaiveFine"):
            return await uow.fines.get(FINE.parse_id(previous))
        fine = await uow.fines.get(cmd.fine_id, for_update=True)
        cmd.actor.ensure_not_own(fine.patron, "waive fines")
        fine.waive(cmd.reason, now=clock.now(), actor=cmd.actor.user or "system")
        await uow.fines.save(fine)
        await uow.requests.remember(cmd.request_id, "WaiveFine", fine.name)
        await uow.commit()
    return fine


@dataclass(frozen=True, slots=True)
class ListFines:
    parent: str = ""
    status: FineStatus | None = None
    page_size: int = 0
    page_token: str = ""
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class FineListing:
    page: Page[Fine]
    outstanding_total: Decimal
    """Still owed over every matching fine, not just this page."""


async def list_fines(cmd: ListFines, *, uow: LoansUnitOfWork) -> FineListing:
    """Newest first, with the total still owed over all matching fines."""
    patron = patron_scope(cmd.parent, cmd.actor, "fines")
    size = page_size(cmd.page_size)
    query = fingerprint("ListFines", patron, cmd.status.value if cmd.status else "")
    page = PageRequest(size, newest_first_after(cmd.page_token, query), query)
    async with uow:
        fines, outstanding = await uow.fines.list_newest_first(FineFilter(patron, cmd.status), page=page)
    return FineListing(fines, outstanding)


async def closed_days_for(loan: Loan, *, uow: LoansUnitOfWork, now: datetime) -> ClosedDays:
    """Inside the caller's unit of work: the closed days a loan's overdue days skip at `now`, read (from the
    cache, mostly) only when it is late then: a loan not late counts none, a returned one keeps its count."""
    return await uow.closed_days.in_force() if loan.is_overdue(now) else NO_CLOSED_DAYS


async def bring_overdue_fine_up_to_date(
    uow: LoansUnitOfWork,
    loan: Loan,
    *,
    now: datetime,
    actor: str,
    currency: str,
    zone: tzinfo,
    closed: ClosedDays,
) -> tuple[Fine | None, bool]:
    """Inside the caller's transaction: create the loan's overdue fine, or grow it to what the loan's terms
    say it is worth now (its days counted in the library's time zone `zone`, on the days it is not `closed`);
    returns the fine (if any) and whether it changed."""
    fine = await uow.fines.overdue_fine_of(loan.name)
    return await accrue_overdue_fine(uow, loan, fine, now=now, actor=actor, currency=currency, zone=zone, closed=closed)


async def accrue_overdue_fine(
    uow: LoansUnitOfWork,
    loan: Loan,
    fine: Fine | None,
    *,
    now: datetime,
    actor: str,
    currency: str,
    zone: tzinfo,
    closed: ClosedDays,
) -> tuple[Fine | None, bool]:
    """As bring_overdue_fine_up_to_date, with the loan's overdue `fine` (None: it has none) read and locked by the
    caller (the reconciler reads those of all its overdue loans at once)."""
    amount = loan.overdue_fine(now, zone, closed=closed)
    if fine is not None:
        grew = fine.accrue_to(amount, now=now, actor=actor or "system")
        if grew:
            await uow.fines.save(fine)
        return fine, grew
    if amount <= 0:
        return None, False
    fine = Fine.assess(
        patron=loan.patron,
        kind=FineKind.OVERDUE,
        amount=amount,
        currency=currency,
        now=now,
        actor=actor or "system",
        loan=loan.name,
        description=f"overdue: {loan.book_title or loan.barcode}",
        book=loan.book,
        book_language=loan.book_language if loan.book_title else "",
    )
    await uow.fines.add(fine)
    return fine, True
