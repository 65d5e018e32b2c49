"""The issue saga's first step: the PENDING loan, committed before the catalog is asked for a copy.

Begun after the copy was looked up (its book and item type known: the limit of its type and the patron's hold on
its book with a copy set aside, READY or IN_TRANSIT, are checked first), or unseen: by barcode, when neither could
change the answer (the patron is within every limit and has no copy set aside), so the catalog is asked only to
check the copy out, and its answer says what the copy is. The limit of the copy's own type is checked again
either way once the copy is out (issuing.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.borrowing import (
    BorrowingPolicy,
    CopyInfo,
    Eligibility,
    ensure_may_borrow,
    may_borrow_any_item_type,
    not_for_loan,
)
from services.loans.domain.item_types import ItemTypes, lendable
from services.loans.domain.loans import Loan
from services.loans.domain.rules import WILDCARD, most_specific, own_rule_types
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class IssueLoan:
    patron: str
    barcode: str = ""
    book: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def begin_seen(
    cmd: IssueLoan,
    book: str,
    copy: CopyInfo | None,
    eligibility: Eligibility,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    policy: BorrowingPolicy,
) -> Loan:
    """Check the patron may borrow and record the PENDING loan (committed before the catalog is asked)."""
    now = clock.now()
    async with uow:
        await uow.loans.lock_patron(cmd.patron)
        item_type = copy.item_type if copy else WILDCARD
        rules = await uow.rules.in_force()
        rule = most_specific(rules, eligibility.patron_category, item_type)
        terms = rule.terms
        besides = own_rule_types(rules, eligibility.patron_category)
        standing = await uow.loans.standing(cmd.patron, item_type=terms.item_type, now=now, besides=besides)
        if copy is None:  # the copy's type, hence the loan limit that applies, is known after the check-out
            standing = replace(standing, active_loans=0)
            if not lendable(rules, eligibility.patron_category).admits_none:  # the catalog picks a lendable one
                terms = replace(terms, max_loans=max(terms.max_loans, 1))
        ensure_may_borrow(eligibility, standing, terms, policy)
        if copy is not None:  # its own rule: refused before the copy is taken out (by book, once it is)
            rule.terms.ensure_lends_at(now, policy.time_zone)
        # Its copy on the shelf or on its way: looked for only when the standing counts such a hold.
        hold = await uow.holds.active_for(cmd.patron, book) if standing.ready_holds else None
        ready = hold if hold is not None and hold.set_aside else None
        requested_copy = ready.copy if ready and not cmd.barcode else ""
        return await _record(cmd, book, requested_copy, ready.name if ready else "", uow=uow, now=now)


async def begin_unseen(
    cmd: IssueLoan, eligibility: Eligibility, *, uow: LoansUnitOfWork, clock: Clock, policy: BorrowingPolicy
) -> Loan | None:
    """The PENDING loan of a copy by barcode, not looked up first; None (nothing recorded) when the copy's
    item type or book could change the answer, so it must be looked up (`begin_seen`).

    One write, committed by itself, without the patron's lock: the count decides only whether to begin here
    (and unseen). It counts ACTIVE loans, which a concurrent issue of the same patron makes only under that
    lock when its copy is out (`issuing._activate`, which checks the limit of this copy's type the same way),
    so the lock here would not stop two such issues both passing it either; the second puts its copy back."""
    now = clock.now()
    async with uow.single_write():
        standing = await uow.loans.standing(cmd.patron, item_type=WILDCARD, now=now)
        if standing.ready_holds or not may_borrow_any_item_type(
            eligibility, standing, await uow.rules.in_force(), policy
        ):
            return None
        return await _record(cmd, "", "", "", uow=uow, now=now)


async def lendable_to(eligibility: Eligibility, *, uow: LoansUnitOfWork) -> ItemTypes:
    """The item types the patron may borrow, of which a check-out by book picks its copy; NOT_FOR_LOAN when
    none (the rules changed since the loan was begun)."""
    async with uow.reading():
        rules = await uow.rules.in_force()
    types = lendable(rules, eligibility.patron_category)
    if types.admits_none:
        raise not_for_loan(
            eligibility.patron_category, most_specific(rules, eligibility.patron_category, WILDCARD).terms
        )
    return types


async def _record(
    cmd: IssueLoan, book: str, requested_copy: str, hold: str, *, uow: LoansUnitOfWork, now: datetime
) -> Loan:
    """The PENDING loan, committed (inside the caller's `async with uow`)."""
    loan = Loan.begin(
        patron=cmd.patron,
        book=book,
        barcode=cmd.barcode,
        requested_copy=requested_copy,
        hold=hold,
        request_id=cmd.request_id,
        issued_by=cmd.actor.user,
        now=now,
    )
    await uow.loans.add(loan)
    await uow.commit()
    return loan


def begun_unseen(loan: Loan) -> bool:
    """Whether the loan was begun before the catalog said what its copy is (its book is known at activation)."""
    return not loan.book


async def forget(loan_id: uuid.UUID, *, uow: LoansUnitOfWork) -> None:
    """A loan begun unseen whose barcode no copy has: nothing was lent, and nothing stays recorded (as when
    the copy is looked up first)."""
    async with uow.single_write():
        await uow.loans.forget(loan_id)
        await uow.commit()
