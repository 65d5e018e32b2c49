"""Renewing a loan: a new due time, within the rule's limits, while nobody else waits for the book."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.loans.app.peers import Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.borrowing import BorrowingPolicy, ensure_eligible, ensure_in_good_standing
from services.loans.domain.loan_record import LOAN
from services.loans.domain.loans import Loan, visible
from services.loans.domain.rules import WILDCARD, most_specific
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class RenewLoan:
    loan_id: uuid.UUID
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def renew_loan(
    cmd: RenewLoan, *, uow: LoansUnitOfWork, clock: Clock, users: Users, policy: BorrowingPolicy
) -> Loan:
    """Extend the due time (to the end of a day in the library's time zone), unless the limit is reached, the
    loan is overdue or others wait for the book."""
    async with uow:
        previous = await uow.requests.recall(cmd.request_id, "RenewLoan")
        loan = visible(await uow.loans.get(LOAN.parse_id(previous) if previous else cmd.loan_id))
    cmd.actor.ensure_may_act_for(loan.patron, "renew the loans")  # a retry too: the id is no pass
    if previous:
        return loan
    eligibility = await users.eligibility(loan.patron)
    ensure_eligible(eligibility, patron=loan.patron, what="renew")
    async with uow:
        loan = visible(await uow.loans.get(cmd.loan_id, for_update=True))
        # Fines past the limit block a renewal as they block a loan; an overdue loan is the loan's own refusal.
        standing = await uow.loans.standing(loan.patron, item_type=WILDCARD, now=clock.now())
        rule = most_specific(await uow.rules.in_force(), eligibility.patron_category, loan.item_type)
        ensure_in_good_standing(loan.patron, standing, rule.terms, policy, overdue_counts=False)
        others_waiting = await uow.holds.others_waiting(loan.book, loan.patron)
        closed = await uow.closed_days.in_force()
        loan.renew(now=clock.now(), others_waiting=others_waiting, zone=policy.time_zone, closed=closed)
        await uow.loans.save(loan)
        await uow.requests.remember(cmd.request_id, "RenewLoan", loan.name)
        await uow.commit()
    return loan
