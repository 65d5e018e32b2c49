"""Receiving a copy set aside for a hold at a desk (ReceiveHoldCopy): the pull list's copy brought from the open
shelf, or one sent from another branch. At the hold's pickup branch the copy goes on the hold shelf and the hold
is READY (its pickup window starts, and the patron is told: HoldReady); elsewhere nothing changes, and the hold
answered says where to send it.

As everywhere on the hold shelf, the catalog is told first and loans records it after: a crash in between leaves
a copy on the hold shelf for a hold still IN_TRANSIT here, which the reconciler makes READY (comparing.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import tzinfo

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import first_to_hold, shelved
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.holds import HOLD, Hold, HoldNotFound, HoldStatus, same_branch, sent_elsewhere
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound

COPY_NOT_HELD = "COPY_NOT_HELD"
_RECEIVE = "ReceiveHoldCopy"


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
    trap = await first_to_hold(book, item_type, uow=uow, clock=clock)
    if not trap:
        return "", False
    async with uow.reading():
        pickup = (await uow.holds.get(HOLD.parse_id(trap))).pickup_branch
    return trap, sent_elsewhere(pickup, desk=desk)


def at_pickup_branch(pickup_branch: str, *, desk: str) -> bool:
    """Whether a desk at `desk` is where the hold is collected: a hold with no pickup branch is collected anywhere;
    a desk that does not say where it is receives only for such a hold (it cannot tell a copy to send on)."""
    return not pickup_branch.strip() or same_branch(pickup_branch, desk)


async def receive_hold_copy(
    cmd: ReceiveHoldCopy, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> Hold:
    """The hold the scanned copy is set aside for: READY at its pickup branch (until the end of the library's
    day, in `zone`, its pickup days later), else IN_TRANSIT as it was. A copy on the hold shelf for its READY
    hold already is answered that hold (a second scan, or a retry)."""
    cmd.actor.ensure_staff("receive copies for holds")
    barcode = cmd.barcode.strip()  # a scanner's or a typist's spaces are no part of the label
    if not barcode:
        raise InvalidArgument.field("barcode", "give the barcode of the copy received")
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, _RECEIVE):
            return await uow.holds.get(HOLD.parse_id(previous))
    copy = await _held_copy(barcode, catalog)
    hold = await _hold_of(copy, uow=uow, clock=clock, catalog=catalog, zone=zone)
    if hold.status == HoldStatus.IN_TRANSIT and at_pickup_branch(hold.pickup_branch, desk=cmd.branch):
        if copy.in_transit:
            await catalog.shelve(copy=copy.name, hold=hold.name)
        return await retry_conflicts(
            lambda: record_received(hold.id, copy.name, request_id=cmd.request_id, uow=uow, clock=clock, zone=zone)
        )
    async with uow:  # nothing to change: the answer is remembered all the same, for a retry
        await uow.requests.remember(cmd.request_id, _RECEIVE, hold.name)
        await uow.commit()
    return hold


async def record_received(
    hold_id: uuid.UUID,
    copy: str,
    *,
    request_id: uuid.UUID | None = None,
    uow: LoansUnitOfWork,
    clock: Clock,
    zone: tzinfo,
) -> Hold:
    """The catalog has `copy` on the hold shelf for the hold: an IN_TRANSIT hold with that copy becomes READY; any
    other is left as it is now (cancelled, or received by another desk meanwhile)."""
    async with uow:
        hold = await uow.holds.get(hold_id)
        if hold.status == HoldStatus.IN_TRANSIT and hold.copy == copy:
            hold.make_ready(copy, now=clock.now(), zone=zone, closed=await uow.closed_days.in_force())
            await uow.holds.save(hold)
        await uow.requests.remember(request_id, _RECEIVE, hold.name)
        await uow.commit()
    return hold


async def _held_copy(barcode: str, catalog: Catalog) -> CopyInfo:
    try:
        copy = await catalog.lookup_copy(barcode)
    except NotFound:
        raise NotFound(
            f"copies/-?barcode={barcode}", f"no copy has barcode {barcode}", reason="BARCODE_NOT_FOUND"
        ) from None
    if not copy.held or not HOLD.matches(copy.current_hold):
        raise _not_held(barcode, copy.status)
    return copy


async def _hold_of(copy: CopyInfo, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo) -> Hold:
    """The active hold the catalog has the copy set aside for. A WAITING one without it is recorded first (the
    catalog's step was done and ours not, as the reconciler would)."""
    try:
        async with uow.reading():
            hold = await uow.holds.get(HOLD.parse_id(copy.current_hold))
    except HoldNotFound:
        raise _not_held(copy.barcode, copy.status) from None
    if hold.status == HoldStatus.WAITING:
        hold = await shelved(
            hold.id, copy.name, in_transit=copy.in_transit, uow=uow, clock=clock, catalog=catalog, zone=zone
        )
    if not hold.set_aside or hold.copy != copy.name:
        raise _not_held(copy.barcode, copy.status)  # an ended hold's copy: the reconciler releases it
    return hold


def _not_held(barcode: str, status: str) -> FailedPrecondition:
    state = status.lower().replace("_", " ") or "on the shelf"
    return FailedPrecondition(
        f"the copy {barcode} is not set aside for a hold: it is {state}",
        reason=COPY_NOT_HELD,
        metadata={"barcode": barcode, "status": status},
    )
