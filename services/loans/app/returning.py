"""Returning a loan, a saga like the issue: the return is noted on the loan first (committed before the
catalog is asked), then the copy is checked in (onto the hold shelf when someone waits), then the loan is
closed and any overdue fine assessed, in one transaction; or, the common case, with no fine and no hold to
settle, in one statement (the close, its event and the request's record).

A return interrupted after the catalog's step (Postgres restarting, the process killed) leaves the loan
ACTIVE on a copy that is back on the shelf. The note says so: the next issue of that copy finishes the
return (issuing.py), and so does the reconciler once it is older than the saga timeout, or drops the note
when the catalog still has the copy out on the loan (reconciling.py)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from functools import partial

from services.loans.app.fining import bring_overdue_fine_up_to_date, closed_days_for
from services.loans.app.follow_ups import after_commit
from services.loans.app.losing import ensure_still_lost
from services.loans.app.peers import COPY_ON_ANOTHER_LOAN, Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.return_traps import Closed, give_to_hold, pickup_branch_of, settle_shelf, trap_for
from services.loans.app.saga import SAGA_TIMEOUT, LoanOfStep, known_then_read
from services.loans.app.unrecorded import return_without_active_loan
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.hold_record import HOLD
from services.loans.domain.holds import sent_elsewhere
from services.loans.domain.loan_record import LOAN, LoanStatus
from services.loans.domain.loans import Loan, visible
from services.loans.domain.unrecorded import lent_again_before
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)


@dataclass(frozen=True, slots=True)
class ReturnLoan:
    loan_id: uuid.UUID | None = None
    barcode: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM
    branch: str = ""
    """The desk's branch code: a copy trapped for a hold picked up elsewhere is sent there (IN_TRANSIT)."""


class _StaleRecord(Exception):
    """The catalog has the copy out on another loan and no earlier try of this return checked it in: the loan
    is a record from before a restored backup (the copy came back and went out again since)."""


class _NothingOut(Exception):
    """No active loan has the barcode a return gave: the catalog says why (or has it out on a loan not recorded
    here), once the transaction is over."""


async def _named(
    loan_id: uuid.UUID | None, barcode: str, *, uow: LoansUnitOfWork, now: datetime
) -> tuple[Loan, uuid.UUID | None]:
    try:
        return await uow.loans.to_return(loan_id=loan_id, barcode=barcode, now=now)
    except NotFound:
        if loan_id is not None:
            raise
        raise _NothingOut from None


async def return_loan(
    cmd: ReturnLoan,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    currency: str,
    zone: tzinfo,
    saga_timeout: timedelta = SAGA_TIMEOUT,
    branches: LibraryBranches = ANY_BRANCH,
) -> Loan:
    """Check the copy in (onto the hold shelf when someone waits here; in transit to the hold's pickup branch when
    it is another than the desk's `branch`), close the loan, assess any overdue fine
    (`zone`: the library's time zone, in whose days fines are counted and a hold's pickup deadline falls). By
    barcode, a copy the catalog has out on a loan not recorded here is checked in too (unrecorded.py)."""
    cmd.actor.ensure_staff("take returns")
    barcode = cmd.barcode.strip()  # a scanner's or a typist's spaces are no part of the label
    if cmd.loan_id is None and not barcode:
        raise InvalidArgument.field("name", "give the loan's name or the copy's barcode")
    branches.ensure_desk(cmd.branch)  # a copy sent on to a branch that is not one would never be received
    unrecorded = partial(
        return_without_active_loan,
        actor=cmd.actor,
        uow=uow,
        clock=clock,
        catalog=catalog,
        zone=zone,
        saga_timeout=saga_timeout,
        branch=cmd.branch,
    )
    # The note is one versioned write (a loan changed since it was read is a lost race), committed by itself.
    try:
        async with uow.single_write():
            if previous := await uow.requests.recall(cmd.request_id, "ReturnLoan"):
                return await uow.loans.get(LOAN.parse_id(previous))
            loan, queue_head = await _named(cmd.loan_id, barcode, uow=uow, now=clock.now())
            visible(loan)  # NOT_FOUND for a saga's PENDING or FAILED record
            if cmd.loan_id is not None and barcode and not loan.has_barcode(barcode):  # one item scanned, another open
                raise InvalidArgument.field("barcode", f"is not the barcode of {loan.name}'s copy: give one of them")
            if loan.closed_for(cmd.request_id):  # its begun return, finished by the reconciler after a crash
                return loan
            if loan.status == LoanStatus.RETURNED:
                raise FailedPrecondition(f"{loan.name} was already returned", reason="LOAN_ALREADY_RETURNED")
            if loan.status == LoanStatus.LOST:  # found: taken back by its copy's barcode, as when scanned
                raise _NothingOut(loan.barcode, loan if cmd.loan_id is not None else None)
            waiting = HOLD.format(queue_head) if queue_head is not None else ""
            first_try_at = loan.return_started_at  # None: this is the first; else its check-in may have gone through
            loan.begin_return(clock.now(), request_id=cmd.request_id)
            await uow.loans.save(loan)
            await uow.commit()
    except _NothingOut as nothing:
        if len(nothing.args) > 1 and nothing.args[1] is not None:  # a LOST loan by its name: still lost on it?
            await ensure_still_lost(nothing.args[1], uow=uow, catalog=catalog)
        return await unrecorded(nothing.args[0] if nothing.args else barcode)
    trap, pickup = await trap_for(loan, waiting, uow=uow, clock=clock) if waiting else ("", "")
    sending = sent_elsewhere(pickup, desk=cmd.branch)
    try:
        shelved_for, in_transit = await _check_in(
            loan, trap, sending, catalog=catalog, first_try_at=first_try_at, margin=saga_timeout
        )
    except _StaleRecord:
        await _close_stale(loan, uow=uow, clock=clock)
        return await unrecorded(barcode or loan.barcode)
    closed = await _close_unless_fined(loan, shelved_for, cmd, uow=uow, clock=clock, zone=zone)
    if closed is not None:
        done = Closed(closed)
    else:
        # The note above is committed, so the runtime no longer repeats this call after a lost race: the close
        # is repeated here, reading again what it changes (returns at once to one queue race for its head hold).
        current = known_then_read(loan)
        done = await retry_conflicts(
            lambda: _close(current, (shelved_for, in_transit), cmd, uow=uow, clock=clock, currency=currency, zone=zone)
        )
    # The hold asked for got a copy meanwhile (the catalog put this one back on the shelf): the others are served.
    unserved = bool(trap) and not shelved_for
    settle = settle_shelf(done, unserved, uow=uow, clock=clock, catalog=catalog, zone=zone)
    await after_commit(settle, done.loan.name)
    trapped = shelved_for and done.extra is None and done.ended is None
    if trapped and not done.loan.trapped_hold:  # closed meanwhile by another step: where the desk puts the copy
        if in_transit and shelved_for != trap:  # a retry: the catalog set it aside for the first try's hold
            pickup = await pickup_branch_of(shelved_for, uow=uow)
        return replace(done.loan, trapped_hold=shelved_for, transit_branch=pickup.strip() if in_transit else "")
    return done.loan


async def _check_in(
    loan: Loan, trap: str, sending: bool, *, catalog: Catalog, first_try_at: datetime | None, margin: timedelta
) -> tuple[str, bool]:
    """Check the copy in, onto the hold shelf for `trap` when set (in transit for it when `sending`); the hold
    it was set aside for ("" when none), and whether it is in transit. A retry asks again, whatever the queue
    is now: the catalog, for which the loan has ended, answers where the copy went the first time; and a copy
    it has out on another loan came back from this one already (a try whose answer was lost, the copy lent
    again since): the loan is closed, as the reconciler closes a begun return whose copy the catalog no longer
    has out on it. With no earlier try (`first_try_at`, the return's note found already set), or one begun
    after the copy went out on the other loan (less `margin`, for the two services' clocks: another desk
    scanning the same restored loan at the same time), nothing here checked it in: _StaleRecord."""
    try:
        checked_in = await catalog.check_in(copy=loan.copy, loan=loan.name, hold=trap, in_transit=sending)
    except FailedPrecondition as refusal:
        if refusal.reason != COPY_ON_ANOTHER_LOAN:
            raise
        if first_try_at is None or lent_again_before(await catalog.get_copy(loan.copy), loan, first_try_at - margin):
            raise _StaleRecord from None
        return "", False
    return (checked_in.current_hold, checked_in.in_transit) if checked_in.held else ("", False)


async def _close_stale(noted: Loan, *, uow: LoansUnitOfWork, clock: Clock) -> None:
    """Close a loan restored from a backup whose copy the catalog has out on a loan made since (the copy in
    hand is back from that one, checked in next): no fine counted to today, which would charge its patron for
    days they did not have the copy. Left alone when finished meanwhile (by another desk, an issue, the
    reconciler)."""
    async with uow:
        loan = await uow.loans.get(noted.id, for_update=True)
        if loan.status != LoanStatus.ACTIVE:
            return
        loan.close_as_stale(clock.now())
        await uow.loans.save(loan)
        await uow.commit()


async def _close_unless_fined(
    noted: Loan, shelved_for: str, cmd: ReturnLoan, *, uow: LoansUnitOfWork, clock: Clock, zone: tzinfo
) -> Loan | None:
    """The common return, with no hold to give the copy to and no fine to bring up to date: the close, its
    event and the request's record in one write. None, with nothing written, when the loan has an overdue fine
    recorded or changed since the note (the transaction of `_close` then settles it)."""
    now = clock.now()
    if shelved_for:
        return None
    async with uow.reading():  # no round trip unless late, and the closed days not cached
        closed = await closed_days_for(noted, uow=uow, now=now)
    if noted.overdue_fine(now, zone, closed=closed) > 0:
        return None
    loan = replace(noted, events=[])  # the note's loan stays as committed, for `_close` if this writes nothing
    async with uow.single_write():
        await uow.requests.remember(cmd.request_id, "ReturnLoan", loan.name)  # before the write, which carries it
        loan.return_copy(now=now, fine=None, zone=zone, closed=closed)
        if not await uow.loans.close_unless_fined(loan):
            return None
        await uow.commit()
    return loan


async def _close(
    current: LoanOfStep,
    trapped: tuple[str, bool],
    cmd: ReturnLoan,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    currency: str,
    zone: tzinfo,
) -> Closed:
    """The copy is back: close the loan with any overdue fine, and give the copy to the hold it went on the
    shelf for (READY; IN_TRANSIT when `trapped` says it is on its way to the pickup branch; or an ended hold's
    copy to release); also what the shelf holds one copy too many of."""
    shelved_for, in_transit = trapped
    now = clock.now()
    async with uow:
        loan = await current(uow)
        if loan.status == LoanStatus.RETURNED:  # finished meanwhile by an issue of the copy or the reconciler
            return Closed(loan)
        done = Closed(loan)
        if shelved_for:
            done = await give_to_hold(loan, HOLD.parse_id(shelved_for), in_transit, cmd, uow=uow, now=now, zone=zone)
        # Closed with where the copy went, so that a retry of the return (its request_id) is answered the same.
        await close_loan(loan, now=now, uow=uow, actor=cmd.actor.user, currency=currency, zone=zone)
        await uow.requests.remember(cmd.request_id, "ReturnLoan", loan.name)
        await uow.commit()
    return done


async def close_loan(
    loan: Loan, *, now: datetime, uow: LoansUnitOfWork, actor: str, currency: str, zone: tzinfo
) -> None:
    """The loan ends at `now`, its overdue fine brought up to that day (inside the caller's transaction)."""
    closed = await closed_days_for(loan, uow=uow, now=now)
    fine, _ = await bring_overdue_fine_up_to_date(
        uow, loan, now=now, actor=actor, currency=currency, zone=zone, closed=closed
    )
    loan.return_copy(now=now, fine=fine, zone=zone, closed=closed)
    await uow.loans.save(loan)


async def finish_begun_return(
    loan: Loan, *, uow: LoansUnitOfWork, currency: str, zone: tzinfo, copy: CopyInfo | None = None
) -> None:
    """Close a loan whose return was begun and reached the catalog, as of when it was begun (the patron is not
    fined for the time it took to notice). `copy`, as the catalog has it now: one it set aside for a hold of ours
    was trapped by that return, and the loan says so as the return would have (`trapped_hold`, and the pickup
    branch it is sent to): a retry of the return with its request_id is answered with the loan (`closed_for`;
    the id itself may still be claimed by the attempt that failed, so it is not recorded here), and the desk
    that has the copy in hand learns where it goes (finding C3)."""
    assert loan.return_started_at is not None
    # Sent on for a hold (`sent`) or on the hold shelf: the check-in trapped it; one the catalog merely set aside
    # in transit (the pull list) was checked in AVAILABLE and reserved by a queue after.
    trapped = copy is not None and copy.held and (copy.sent or not copy.in_transit)
    if trapped and copy is not None and HOLD.matches(copy.current_hold):
        with contextlib.suppress(NotFound):
            sent_to = (await uow.holds.get(HOLD.parse_id(copy.current_hold))).pickup_branch.strip()
            loan.trapped_hold = copy.current_hold
            loan.transit_branch = sent_to if copy.in_transit else ""
    await close_loan(loan, now=loan.return_started_at, uow=uow, actor="system", currency=currency, zone=zone)


async def finish_return_on_copy(copy: str, *, uow: LoansUnitOfWork, currency: str, zone: tzinfo) -> bool:
    """The catalog has just lent `copy` out again, so it took it back from the loan still ACTIVE on it here:
    if that loan's return was begun, finish it. True when no active loan holds the copy any more."""
    async with uow:
        holder = await uow.loans.active_on_copy(copy)
        if holder is None:
            return True
        if holder.return_started_at is None:
            return False  # not ours to decide: the reconciler reports it for staff
        await finish_begun_return(holder, uow=uow, currency=currency, zone=zone)
        await uow.commit()
    return True
