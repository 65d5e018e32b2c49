"""Receiving a copy set aside for a hold at a desk (ReceiveHoldCopy): the pull list's copy brought from the open
shelf, or one sent from another branch. At the hold's pickup branch the copy goes on the hold shelf and the hold
is READY (its pickup window starts, and the patron is told: HoldReady); elsewhere nothing changes, and the hold
answered says where to send it.

As everywhere on the hold shelf, the catalog is told first and loans records it after: a crash in between leaves
a copy on the hold shelf for a hold still IN_TRANSIT here, which the reconciler makes READY (comparing.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import tzinfo

from services.loans.app.coming_home import came_home
from services.loans.app.follow_ups import after_commit
from services.loans.app.passing_over import may_not_borrow, pass_over
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.queue_pages import first_to_hold
from services.loans.app.set_aside_from import sent_from_a_desk
from services.loans.app.shelf import release_and_pass_on, shelved
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.branches import ANY_BRANCH, LibraryBranches
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.loans.domain.holds import Hold, HoldNotFound, sent_elsewhere
from services.loans.domain.loans import Loan
from services.support.runtime.branches import same_branch
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound

COPY_NOT_HELD = "COPY_NOT_HELD"
HOLD_PATRON_MAY_NOT_BORROW = "HOLD_PATRON_MAY_NOT_BORROW"
"""ReceiveHoldCopy's reason when the hold's patron may not borrow now and nobody else waiting may have the copy:
it was released back to the open shelf (passing_over.py)."""
_RECEIVE = "ReceiveHoldCopy"
_READS = 3
"""Reads of where a copy is, for a receipt racing a cancel of its hold: each cancel passes the copy on once."""


@dataclass(frozen=True, slots=True)
class ReceiveHoldCopy:
    barcode: str
    branch: str = ""
    """The desk's branch code: the copy goes on the hold shelf only at the hold's pickup branch."""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def trap_at_desk(book: str, item_type: str, desk: str, *, uow: LoansUnitOfWork, clock: Clock) -> tuple[str, bool]:
    """The hold a copy of `item_type` taken back at a desk of branch `desk` is trapped for (the first in the
    queue who may have it; "" when none may), and whether it is sent on to that hold's pickup branch."""
    held = await first_to_hold(book, item_type, uow=uow, clock=clock)
    if held is None:
        return "", False
    return held.name, sent_elsewhere(held.pickup_branch, desk=desk)


async def shelve_checked_in(
    checked_in: CopyInfo,
    *,
    at_desk: str,
    committed: Loan,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
) -> Loan:
    """The catalog checked a copy in at a desk of branch `at_desk` and set it aside for a hold (on the hold shelf,
    or in transit to the hold's pickup branch): recorded on the hold, as a follow-up of the `committed` return.
    That return answered with where the desk puts the copy in hand, as an ordinary return is (returning.py)."""
    if not (checked_in.held and HOLD.matches(checked_in.current_hold)):
        return committed
    step = shelved(
        HOLD.parse_id(checked_in.current_hold),
        checked_in.name,
        in_transit=checked_in.in_transit,
        at_desk=at_desk,
        described=checked_in,
        uow=uow,
        clock=clock,
        catalog=catalog,
        zone=zone,
    )
    return trapped_for(committed, await after_commit(step, committed.name), checked_in.name)


def trapped_for(loan: Loan, hold: Hold | None, copy: str) -> Loan:
    """A return's answer with the hold its copy is set aside for and, in transit, the branch to send it to (the
    desk says "put it on the hold shelf" or "send it to X"); as it is when the hold did not take the copy."""
    if hold is None or not hold.set_aside or hold.copy != copy:
        return loan
    sending = hold.status == HoldStatus.IN_TRANSIT
    return replace(loan, trapped_hold=hold.name, transit_branch=hold.pickup_branch.strip() if sending else "")


def at_pickup_branch(pickup_branch: str, *, desk: str) -> bool:
    """Whether a desk at `desk` is where the hold is collected: a hold with no pickup branch is collected anywhere;
    a desk that does not say where it is receives only for such a hold (it cannot tell a copy to send on)."""
    return not pickup_branch.strip() or same_branch(pickup_branch, desk)


async def receive_hold_copy(
    cmd: ReceiveHoldCopy,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
    branches: LibraryBranches = ANY_BRANCH,
) -> Hold:
    """The hold the scanned copy is set aside for: READY at its pickup branch (until the end of the library's
    day, in `zone`, its pickup days later), else IN_TRANSIT as it was. A copy on the hold shelf for its READY
    hold already is answered that hold (a second scan, or a retry). A hold cancelled while the copy is received
    passes the copy on: it is read again and received for the hold it is set aside for now, so the answer is
    never an ended hold (the desk was told to send a copy for a cancelled hold, or to put back one the next
    reader waits for here)."""
    cmd.actor.ensure_staff("receive copies for holds")
    barcode = cmd.barcode.strip()  # a scanner's or a typist's spaces are no part of the label
    if not barcode:
        raise InvalidArgument.field("barcode", "give the barcode of the copy received")
    # One of the library's `branches` when the desk names one, in the list's spelling: where a copy is taken in
    # or passed on from is kept as the other services and the lists spell it.
    cmd = replace(cmd, branch=branches.ensure_desk(cmd.branch))
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, _RECEIVE):
            return await uow.holds.get(HOLD.parse_id(previous))
    for _ in range(_READS):
        copy = await _copy_of(barcode, catalog)
        if not copy.held and await came_home(copy, cmd.branch, uow=uow, clock=clock, catalog=catalog, zone=zone):
            continue  # back home and set aside for a hold by its queue: read again, received for that hold
        if not copy.held or not HOLD.matches(copy.current_hold):
            raise _not_held(barcode, copy.status)
        hold = await _hold_of(copy, uow=uow, clock=clock, catalog=catalog, zone=zone)
        if hold is not None and (
            answer := await _receive(hold, copy, cmd, uow=uow, clock=clock, catalog=catalog, zone=zone)
        ):
            return answer
    raise _not_held(barcode, (await catalog.lookup_copy(barcode)).status)


async def _receive(
    hold: Hold,
    copy: CopyInfo,
    cmd: ReceiveHoldCopy,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
) -> Hold | None:
    """Receive `copy` for `hold`, set aside with it when read; None when the hold ended meanwhile, or was passed
    over (the copy is to be read again: its release passes it on)."""
    if hold.status == HoldStatus.IN_TRANSIT and await may_not_borrow(hold.patron, uow=uow, now=clock.now()):
        passed = await pass_over(
            hold, copy.name, uow=uow, clock=clock, catalog=catalog, zone=zone, at_branch=cmd.branch
        )
        if passed and not (now := await catalog.lookup_copy(copy.barcode)).held:  # nobody else may have it
            raise _passed_over(copy.barcode, hold, home=now.branch if now.status == "IN_TRANSIT" else "")
        return None
    # A copy sent to a branch the library does not list is received at any desk of the list (receive_instead).
    here = at_pickup_branch(hold.pickup_branch, desk=cmd.branch)
    here = here or uow.branches.receives_for(hold.pickup_branch, desk=cmd.branch)
    if hold.status == HoldStatus.IN_TRANSIT and here:
        if copy.in_transit:
            try:
                await catalog.shelve(copy=copy.name, hold=hold.name)
            except FailedPrecondition:
                return None  # released for a cancel of the hold since it was read
        received = await retry_conflicts(
            lambda: record_received(
                hold.id,
                copy.name,
                branch=_waits_at(hold, copy, desk=cmd.branch),
                request_id=cmd.request_id,
                uow=uow,
                clock=clock,
                zone=zone,
            )
        )
        return received if received.set_aside else None
    return await retry_conflicts(lambda: _answer_sent(hold, copy.name, cmd, uow=uow, clock=clock))


def _waits_at(hold: Hold, copy: CopyInfo, *, desk: str) -> str:
    """The desk's branch; for a hold that names no pickup branch received at a desk that names none, the copy's
    own: it waited at no branch (the notice named none, no branch's hold shelf listed it) and expired unseen."""
    return desk.strip() or ("" if hold.pickup_branch.strip() else copy.branch.strip())


async def _answer_sent(hold: Hold, copy: str, cmd: ReceiveHoldCopy, *, uow: LoansUnitOfWork, clock: Clock) -> Hold:
    """Received at a desk that is not the pickup branch's: the copy is sent on. One pulled here is no longer to
    pull (off this branch's pull list, on the pickup branch's list of copies on their way); the answer is
    remembered, for a retry."""
    async with uow:
        if hold.to_pull and cmd.branch.strip():
            current = await uow.holds.get(hold.id)
            if current.copy == copy and current.pulled_and_sent(clock.now(), at_branch=cmd.branch):
                await uow.holds.save(current)
                hold = current
        await uow.requests.remember(cmd.request_id, _RECEIVE, hold.name)
        await uow.commit()
    return hold


async def record_received(
    hold_id: uuid.UUID,
    copy: str,
    *,
    branch: str = "",
    request_id: uuid.UUID | None = None,
    uow: LoansUnitOfWork,
    clock: Clock,
    zone: tzinfo,
) -> Hold:
    """The catalog has `copy` on the hold shelf for the hold, put there at a desk of `branch`: an IN_TRANSIT hold
    with that copy becomes READY (waiting at `branch` when it named no pickup branch: the reader is told where);
    any other is left as it is now (cancelled, or received by another desk meanwhile). The request is
    remembered only with a hold still set aside (an ended one is no answer)."""
    async with uow:
        hold = await uow.holds.get(hold_id)
        if hold.status == HoldStatus.IN_TRANSIT and hold.copy == copy:
            closed = await uow.closed_days.in_force()
            if uow.branches.receives_for(hold.pickup_branch, desk=branch):  # sent where no desk may receive it
                desk = uow.branches.spelled(branch, field="branch")
                hold.receive_instead(copy, now=clock.now(), zone=zone, at_branch=desk, closed=closed)
            else:
                hold.receive(copy, now=clock.now(), zone=zone, at_branch=branch, closed=closed)
            await uow.holds.save(hold)
        if hold.set_aside:
            await uow.requests.remember(request_id, _RECEIVE, hold.name)
        await uow.commit()
    return hold


async def _copy_of(barcode: str, catalog: Catalog) -> CopyInfo:
    try:
        return await catalog.lookup_copy(barcode)
    except NotFound:
        raise NotFound(
            f"copies/-?barcode={barcode}", f"no copy has barcode {barcode}", reason="BARCODE_NOT_FOUND"
        ) from None


async def _hold_of(
    copy: CopyInfo, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> Hold | None:
    """The active hold the catalog has the copy set aside for. A WAITING one without it is recorded first (the
    catalog's step was done and ours not, as the reconciler would). None when that hold has ended: its copy,
    if still set aside for it, is released and passed on at once (a cancel, or an account closed, racing the
    receipt), and is to be read again."""
    try:
        async with uow.reading():
            hold = await uow.holds.get(HOLD.parse_id(copy.current_hold))
    except HoldNotFound:
        raise _not_held(copy.barcode, copy.status) from None
    if hold.status == HoldStatus.WAITING:
        hold = await shelved(
            hold.id,
            copy.name,
            in_transit=copy.in_transit,
            at_desk=sent_from_a_desk(copy),
            copy_branch=copy.branch,
            described=copy,
            uow=uow,
            clock=clock,
            catalog=catalog,
            zone=zone,
        )
    if not hold.is_active:
        if hold.copy_left_on_shelf and hold.copy == copy.name:
            await release_and_pass_on(hold.id, uow=uow, clock=clock, catalog=catalog, zone=zone)
        return None
    if not hold.set_aside or hold.copy != copy.name:
        raise _not_held(copy.barcode, copy.status)
    return hold


def _passed_over(barcode: str, hold: Hold, *, home: str = "") -> FailedPrecondition:
    """`home`: the copy, received at another branch than its own, is to be sent home there."""
    where = f"to be sent home to {home}" if home else "back on the open shelf"
    return FailedPrecondition(
        f"the reader of {hold.name} may not borrow now (blocked, expired or closed): the hold keeps its place in"
        f" the queue and nobody else waiting may have the copy {barcode}, which is {where}",
        reason=HOLD_PATRON_MAY_NOT_BORROW,
        # `home`: where the desk sends the copy ("": its open shelf here), for the web's words (finding D3).
        metadata={"barcode": barcode, "hold": hold.name, "home": home},
    )


def _not_held(barcode: str, status: str) -> FailedPrecondition:
    state = status.lower().replace("_", " ") or "on the shelf"
    return FailedPrecondition(
        f"the copy {barcode} is not set aside for a hold: it is {state}",
        reason=COPY_NOT_HELD,
        metadata={"barcode": barcode, "status": status},
    )
