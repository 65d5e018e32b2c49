"""The reconciler's repairs of a hold set aside here (IN_TRANSIT or READY with a copy) whose copy the catalog no
longer has set aside for it: a hold step that tells the catalog first and loans second, cut by a crash between
the two (findings C1, C4). Loans finishes its own step, as the interrupted call would have:

- the catalog has the copy LOST, DAMAGED or WITHDRAWN for nobody (ReportHoldCopyMissing cut after the catalog's
  step): the hold is WAITING again at its place, with its `hold_copy_missing` record (reported by the system: the
  catalog keeps who pressed "Missing" on its own event), its reader told as a reported copy tells them, and the
  queue served (another copy, if one is available);
- the catalog released the copy of an IN_TRANSIT hold (a pass-over cut after the catalog's release): the hold
  waits again at its place (passed over, HoldPassedOver, when its patron still may not borrow) and the queue is
  served;
- the catalog has the copy set aside for another hold (the released copy served the next in the queue): the
  hold the catalog names keeps it, this one waits again at its place (`displace`), so that one copy never serves
  two active holds (the `holds_one_set_aside_per_copy` index refuses it since migration 0018).

Anything else (a READY hold whose copy is back on the open shelf, a copy out on a loan) is only reported.
"""

from __future__ import annotations

import logging
import uuid
from datetime import tzinfo

from services.loans.app.missing import OUT_OF_CIRCULATION
from services.loans.app.passing_over import may_not_borrow
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import serve_queue
from services.loans.domain.actors import SYSTEM
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts

log = logging.getLogger("athenaeum.loans")
_RELEASED = ("AVAILABLE", "IN_TRANSIT")
"""What a released copy is in the catalog with no hold: on the open shelf, or sent home (no `current_hold`)."""


async def requeue_unheld(
    hold_id: uuid.UUID, copy: CopyInfo, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> bool:
    """The hold names `copy`, which the catalog (read again just now) has set aside for nobody: repaired as
    described above; whether it was (False: left for staff)."""
    if copy.held or copy.current_hold:
        return False
    if copy.status in OUT_OF_CIRCULATION:
        hold = await retry_conflicts(lambda: _missing(hold_id, copy, uow=uow, clock=clock))
    elif copy.status in _RELEASED:
        hold = await _released(hold_id, copy.name, uow=uow, clock=clock)
    else:
        return False
    if hold is None:
        return False
    log.info("%s: the catalog has %s %s for nobody; the hold waits in its place", hold.name, copy.name, copy.status)
    await serve_queue(hold.book, uow=uow, clock=clock, catalog=catalog, zone=zone)
    return True


async def displace(hold_id: uuid.UUID, copy: str, *, uow: LoansUnitOfWork, clock: Clock) -> Hold | None:
    """The catalog has `copy` set aside for another hold than this one, which names it here: this one waits again
    at its place (passed over when its patron may not borrow, as the cut pass-over would have; else silently, the
    queue serves it the next copy). None when it no longer names the copy."""

    async def step() -> Hold | None:
        barred = await may_not_borrow((await _read(hold_id, uow)).patron, uow=uow, now=clock.now())
        async with uow:
            hold = await uow.holds.get(hold_id)
            now = clock.now()
            passed = barred and hold.status == HoldStatus.IN_TRANSIT and hold.back_in_queue(copy, now=now)
            if not (passed or hold.requeue_without_copy(copy, now=now)):
                return None
            await uow.holds.save(hold)
            await uow.commit()
        return hold

    return await retry_conflicts(step)


async def _missing(hold_id: uuid.UUID, copy: CopyInfo, *, uow: LoansUnitOfWork, clock: Clock) -> Hold | None:
    async with uow:
        hold = await uow.holds.get(hold_id)
        if not (hold.set_aside and hold.copy == copy.name):
            return None
        hold.copy_missing(now=clock.now(), reported_by=SYSTEM.user, copy_status=copy.status)
        await uow.holds.save(hold)
        await uow.commit()
    return hold


async def _released(hold_id: uuid.UUID, copy: str, *, uow: LoansUnitOfWork, clock: Clock) -> Hold | None:
    """Only an IN_TRANSIT hold: a READY one whose copy is back on the open shelf may be one staff shelved by
    mistake, and is reported."""
    if (await _read(hold_id, uow)).status != HoldStatus.IN_TRANSIT:
        return None
    return await displace(hold_id, copy, uow=uow, clock=clock)


async def _read(hold_id: uuid.UUID, uow: LoansUnitOfWork) -> Hold:
    async with uow.reading():
        return await uow.holds.get(hold_id)
