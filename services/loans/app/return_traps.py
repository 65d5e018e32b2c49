"""The hold shelf's side of a return (returning.py): the hold a returned copy is trapped for, chosen before the
catalog checks it in; the copy recorded on that hold (READY, or IN_TRANSIT to its pickup branch) inside the
return's transaction; and what is left to do on the shelf once the close is committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.queue_pages import first_to_hold
from services.loans.app.shelf import release_and_pass_on, release_extra, serve_queue
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HOLD
from services.loans.domain.holds import Hold
from services.loans.domain.item_types import holdable_by_every_category
from services.loans.domain.loans import Loan
from services.support.runtime.clock import Clock

if TYPE_CHECKING:
    from services.loans.app.returning import ReturnLoan


@dataclass(frozen=True, slots=True)
class Closed:
    """A closed return, and what it leaves to do on the hold shelf once committed."""

    loan: Loan
    extra: tuple[Hold, str] | None = None
    """A hold with another copy already, and this copy, one too many for it."""
    ended: uuid.UUID | None = None
    """A hold that ended (cancelled, expired, filled) while the copy went on the shelf for it."""


async def settle_shelf(
    done: Closed, unserved: bool, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> None:
    """A copy on the shelf for a hold that cannot take it comes off at once and goes to the next in the queue, as
    when a READY hold is cancelled: left there, the desk could lend it to nobody until the reconciler's pass."""
    if done.ended is not None:
        await release_and_pass_on(done.ended, uow=uow, clock=clock, catalog=catalog, zone=zone)
        return
    if done.extra is not None:
        await release_extra(*done.extra, catalog=catalog)
    if done.extra is not None or unserved:
        await serve_queue(done.loan.book, uow=uow, clock=clock, catalog=catalog, zone=zone)


async def trap_for(loan: Loan, head: str, *, uow: LoansUnitOfWork, clock: Clock) -> tuple[str, str]:
    """The hold the copy is set aside for, and its pickup branch, decided before the catalog checks it in, so
    that its status changes once: checked in AVAILABLE and trapped after, it was free for a moment to any desk,
    which could lend it ahead of the queue. The queue's head (`head`, passing over patrons who may not borrow)
    when every patron may hold a copy of its type; else the first in the queue whose patron may; "" when none
    may."""
    async with uow.reading():
        holdable_by_everyone = holdable_by_every_category(await uow.rules.in_force())
    pickup = await pickup_branch_of(head, uow=uow) if head else ""
    # A head picked up at a branch the library does not list is passed over too (finding upgrade F2).
    if not holdable_by_everyone.admits(loan.item_type) or not uow.branches.serves(pickup):
        held = await first_to_hold(loan.book, loan.item_type, uow=uow, clock=clock)
        return (held.name, held.pickup_branch) if held is not None else ("", "")
    return (head, pickup) if head else ("", "")


async def pickup_branch_of(hold: str, *, uow: LoansUnitOfWork) -> str:
    async with uow.reading():
        return (await uow.holds.get(HOLD.parse_id(hold))).pickup_branch


async def give_to_hold(
    loan: Loan,
    hold_id: uuid.UUID,
    in_transit: bool,
    cmd: ReturnLoan,
    *,
    uow: LoansUnitOfWork,
    now: datetime,
    zone: tzinfo,
) -> Closed:
    """The copy went on the shelf (or in transit) for the hold: recorded on it, and on the loan where the desk
    puts the copy in hand (`trapped_hold`, `transit_branch`); or what the shelf holds one copy too many of, or
    an ended hold's copy to release."""
    hold = await uow.holds.get(hold_id)
    if hold.copy != loan.copy:  # else recorded by an earlier try
        closed = await uow.closed_days.in_force()
        if not hold.take_shelf_copy(
            loan.copy,
            in_transit=in_transit,
            now=now,
            zone=zone,
            at_branch=cmd.branch,
            sent=in_transit,
            from_branch=cmd.branch.strip(),
            closed=closed,
        ):
            return Closed(loan, extra=(hold, loan.copy))
        # What the loan knows of the copy; its branch and shelf come with the scheduler's pass (describing.py).
        hold.describe_copy(_returned_copy(loan))
        await uow.holds.save(hold)
    if hold.copy_left_on_shelf and hold.copy == loan.copy:
        return Closed(loan, ended=hold.id)  # the hold ended after the return chose it
    loan.trapped_hold = hold.name
    loan.transit_branch = hold.pickup_branch.strip() if in_transit else ""
    return Closed(loan)


def _returned_copy(loan: Loan) -> CopyInfo:
    """The copy of `loan` as the loan recorded it at issue (its barcode and title)."""
    return CopyInfo(
        name=loan.copy,
        book=loan.book,
        barcode=loan.barcode,
        item_type=loan.item_type,
        status="",
        book_title=loan.book_title,
        book_language=loan.book_language,
    )
