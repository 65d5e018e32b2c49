"""Loans use cases: read, list, return and renew. The issue saga is in issuing.py; holds, fines, rules
and reconciliation have modules of their own. Each step runs in one unit of work; peers are called
between transactions, never inside one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.loans.borrowing import SYSTEM, Actor, BorrowingPolicy
from services.loans.domain import Loan, LoanNotFound, LoanStatus
from services.loans.fines import Fine, FineKind
from services.loans.holds import HoldStatus
from services.loans.ports import Catalog, LoansUnitOfWork, Users
from services.loans.repository import VISIBLE, LoanQuery
from services.support.runtime import pagination
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied


@dataclass(frozen=True)
class Circulation:
    """Everything the use cases depend on, built once in main.py (fakes and test databases in tests)."""

    uow: Callable[[], LoansUnitOfWork]
    clock: Clock
    users: Users
    catalog: Catalog
    policy: BorrowingPolicy = field(default_factory=BorrowingPolicy)
    currency: str = "RUB"
    saga_timeout: timedelta = timedelta(seconds=60)
    """A PENDING issue older than this was abandoned (its process died): the reconciler settles it."""
    overdue_reminder_days: int = 7
    due_soon: timedelta = timedelta(days=2)
    after_checkout: Callable[[], None] = field(default=lambda: None)
    """Fault-injection point between the catalog step and the loan's commit (crash tests)."""


def step_id(resource_id: uuid.UUID, step: str) -> str:
    """The request_id of one saga step on a peer: the same on every retry, so the peer acts once."""
    return str(uuid.uuid5(resource_id, step))


def ensure_staff(actor: Actor, what: str) -> None:
    if not actor.is_staff:
        raise PermissionDenied(f"only library staff may {what}", reason="STAFF_ONLY")


def visible(loan: Loan) -> Loan:
    """Clients never see a saga's PENDING or FAILED record."""
    if loan.status not in VISIBLE:
        raise LoanNotFound(loan.name)
    return loan


async def get_loan(loan_id: uuid.UUID, actor: Actor, c: Circulation) -> Loan:
    """One loan; readers only their own."""
    async with c.uow() as uow:
        loan = visible(await uow.loans.get(loan_id))
    actor.ensure_may_act_for(loan.patron, "see the loans")
    return loan


@dataclass(frozen=True, slots=True)
class ListLoans:
    parent: str = ""
    status: LoanStatus | None = None
    overdue_only: bool = False
    book: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class LoansPage:
    loans: list[Loan]
    next_page_token: str
    total_size: int


def patron_scope(parent: str, actor: Actor, what: str) -> str:
    """The patron a list is about ("" = everyone, staff only); "users/me" is the caller."""
    patron = actor.user if parent == "users/me" else parent
    if patron and (not patron.startswith("users/") or patron.count("/") != 1):
        raise InvalidArgument.field("parent", "must look like users/{user}")
    if not patron and not actor.is_staff:
        raise PermissionDenied(f"a reader may list only their own {what}", reason="NOT_YOUR_RECORD")
    if patron:
        actor.ensure_may_act_for(patron, f"list the {what}")
    return patron


async def list_loans(query: ListLoans, actor: Actor, c: Circulation) -> LoansPage:
    """Newest first, keyset-paginated (AIP-158)."""
    patron = patron_scope(query.parent, actor, "loans")
    size = pagination.page_size(query.page_size)
    status = query.status.value if query.status else ""
    fingerprint = pagination.fingerprint("ListLoans", patron, status, query.overdue_only, query.book)
    cursor = pagination.decode_token(query.page_token, fingerprint)
    after = keyset_cursor(cursor) if cursor else None
    filters = LoanQuery(patron=patron, status=query.status, overdue_only=query.overdue_only, book=query.book)
    async with c.uow() as uow:
        page = await uow.loans.page(filters, now=c.clock.now(), after=after, limit=size)
    token = ""
    if page.has_more and page.items:
        last = page.items[-1]
        token = pagination.encode_token([last.created_at.isoformat(), str(last.id)], fingerprint)
    return LoansPage(page.items, token, page.total_size)


def keyset_cursor(cursor: list[object]) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, row_id = cursor
        return datetime.fromisoformat(str(created_at)), uuid.UUID(str(row_id))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None


@dataclass(frozen=True, slots=True)
class ReturnLoan:
    loan_id: uuid.UUID | None = None
    barcode: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def return_loan(cmd: ReturnLoan, c: Circulation) -> Loan:
    """Check the copy in (onto the hold shelf when someone waits), close the loan, assess any overdue fine."""
    ensure_staff(cmd.actor, "take returns")
    if cmd.loan_id is None and not cmd.barcode:
        raise InvalidArgument.field("name", "give the loan's name or the copy's barcode")
    async with c.uow() as uow:
        if previous := await uow.requests.recall(cmd.request_id, "ReturnLoan"):
            return await uow.loans.get(uuid.UUID(previous.removeprefix("loans/")))
        loan = visible(await (uow.loans.get(cmd.loan_id) if cmd.loan_id else uow.loans.active_by_barcode(cmd.barcode)))
        if loan.status == LoanStatus.RETURNED:
            raise FailedPrecondition(f"{loan.name} was already returned", reason="LOAN_ALREADY_RETURNED")
        waiting = await uow.holds.next_waiting(loan.book)
    trap = waiting.name if waiting else ""
    await c.catalog.check_in(copy=loan.copy, loan=loan.name, hold=trap, request_id=step_id(loan.id, "check-in"))
    now = c.clock.now()
    async with c.uow() as uow:
        loan = await uow.loans.get(loan.id, for_update=True)
        fine, _ = await bring_overdue_fine_up_to_date(uow, loan, now=now, actor=cmd.actor.user, currency=c.currency)
        loan.return_copy(now=now, fine=fine)
        await uow.loans.save(loan)
        if waiting is not None:
            hold = await uow.holds.get(waiting.id)
            if hold.status == HoldStatus.WAITING:
                hold.make_ready(loan.copy, now=now)
            else:  # cancelled meanwhile: the copy sits on the shelf for nobody; the reconciler releases it
                hold.copy, hold.shelf_released = loan.copy, False
            await uow.holds.save(hold)
        await uow.requests.remember(cmd.request_id, "ReturnLoan", loan.name)
        await uow.commit()
    return loan


async def bring_overdue_fine_up_to_date(
    uow: LoansUnitOfWork, loan: Loan, *, now: datetime, actor: str, currency: str
) -> tuple[Fine | None, bool]:
    """Create the loan's overdue fine, or grow it to what the loan's terms say it is worth now;
    returns the fine (if any) and whether it changed."""
    amount = loan.overdue_fine(now)
    fine = await uow.fines.overdue_fine_of(loan.name)
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
    )
    await uow.fines.add(fine)
    return fine, True


@dataclass(frozen=True, slots=True)
class RenewLoan:
    loan_id: uuid.UUID
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def renew_loan(cmd: RenewLoan, c: Circulation) -> Loan:
    """Extend the due time, unless the limit is reached, the loan is overdue or others wait for the book."""
    async with c.uow() as uow:
        if previous := await uow.requests.recall(cmd.request_id, "RenewLoan"):
            return await uow.loans.get(uuid.UUID(previous.removeprefix("loans/")))
        loan = visible(await uow.loans.get(cmd.loan_id))
    cmd.actor.ensure_may_act_for(loan.patron, "renew the loans")
    eligibility = await c.users.eligibility(loan.patron)
    if not eligibility.eligible:
        reasons = "; ".join(eligibility.reasons) or "account not active"
        raise FailedPrecondition(f"{loan.patron} may not renew: {reasons}", reason="PATRON_NOT_ELIGIBLE")
    async with c.uow() as uow:
        loan = visible(await uow.loans.get(cmd.loan_id, for_update=True))
        others_waiting = await uow.holds.others_waiting(loan.book, loan.patron)
        loan.renew(now=c.clock.now(), others_waiting=others_waiting)
        await uow.loans.save(loan)
        await uow.requests.remember(cmd.request_id, "RenewLoan", loan.name)
        await uow.commit()
    return loan
