"""Reading loans: one loan, and lists of them. Clients never see a saga's PENDING or FAILED record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.loans.app.list_requests import LoanFilter, PageRequest
from services.loans.app.pages import newest_first_after
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.actors import SYSTEM, Actor, patron_scope
from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDays
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan, visible
from services.support.runtime.clock import Clock
from services.support.runtime.pagination import fingerprint, page_size
from services.support.runtime.paging import Page


@dataclass(frozen=True, slots=True)
class GetLoan:
    loan_id: uuid.UUID
    actor: Actor = SYSTEM


async def get_loan(cmd: GetLoan, *, uow: LoansUnitOfWork) -> Loan:
    """One loan; readers only their own."""
    async with uow:
        loan = visible(await uow.loans.get(cmd.loan_id))
    cmd.actor.ensure_may_act_for(loan.patron, "see the loans")
    return loan


@dataclass(frozen=True, slots=True)
class ListLoans:
    parent: str = ""
    status: LoanStatus | None = None
    overdue_only: bool = False
    book: str = ""
    page_size: int = 0
    page_token: str = ""
    actor: Actor = SYSTEM


async def list_loans(cmd: ListLoans, *, uow: LoansUnitOfWork, clock: Clock) -> Page[Loan]:
    """Newest first, keyset-paginated (AIP-158)."""
    patron = patron_scope(cmd.parent, cmd.actor, "loans")
    size = page_size(cmd.page_size)
    status = cmd.status.value if cmd.status else ""
    query = fingerprint("ListLoans", patron, status, cmd.overdue_only, cmd.book)
    page = PageRequest(size, newest_first_after(cmd.page_token, query), query)
    where = LoanFilter(patron=patron, status=cmd.status, overdue_only=cmd.overdue_only, book=cmd.book)
    async with uow:
        return await uow.loans.list_newest_first(where, now=clock.now(), page=page)


async def closed_days_for_answers(loans: Sequence[Loan], *, uow: LoansUnitOfWork, now: datetime) -> ClosedDays:
    """The closed days the overdue days shown for `loans` at `now` skip: read (from the cache, mostly) once, and
    only when one of them is late (a returned loan shows the count made at its return)."""
    if not any(loan.is_overdue(now) for loan in loans):
        return NO_CLOSED_DAYS
    async with uow.reading():
        return await uow.closed_days.in_force()
