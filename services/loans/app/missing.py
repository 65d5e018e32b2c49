"""A copy set aside for a hold that staff cannot find (ReportHoldCopyMissing): the pull list names a copy that is
not on its shelf, or one sent from another branch never arrives. Koha's holds to pull has "mark item as lost",
Evergreen's pull list "mark item missing": without it the desk could only leave the hold waiting for a copy
nobody has. The same takes a copy set aside for a hold, in transit or on the hold shelf, out of circulation with
the status staff chose (DAMAGED, WITHDRAWN: Koha's "revert waiting status", Evergreen's "mark item damaged" on a
captured copy). The catalog owns the copy's status and refuses a cataloguer's change of a held copy; loans owns
the hold, so the change goes through here: the hold is never left pointing at a damaged copy.

As everywhere on the hold shelf, the catalog is told first (the copy LOST, "missing on the shelf") and loans
records it after (the hold WAITING again), then the queue is served, which sets another copy on the open shelf
aside for the hold if there is one. The hold's row is locked from its check to its commit, so a cancel cannot
end it while the catalog is told (finding C6). A retry after a crash in between finds the copy LOST already and
finishes; so does the reconciler.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import tzinfo

from services.loans.app.follow_ups import after_commit
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import serve_queue
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.holds import Hold
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import FailedPrecondition, InvalidArgument

_REPORT = "ReportHoldCopyMissing"


@dataclass(frozen=True, slots=True)
class ReportHoldCopyMissing:
    hold_id: uuid.UUID
    copy: str = ""
    """The copy the desk looked for ("" any): a page read before the hold got another copy reports nothing."""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM
    copy_status: str = "LOST"
    """What the catalog makes of the copy: LOST (missing), DAMAGED or WITHDRAWN (OUT_OF_CIRCULATION)."""
    etag: str = ""
    """The hold's etag as the desk read it ("" no check): a row read before another desk found the copy and sent
    it on (or received it) reports nothing, rather than making LOST a copy in a van (finding D15)."""


OUT_OF_CIRCULATION = ("LOST", "DAMAGED", "WITHDRAWN")


async def report_hold_copy_missing(
    cmd: ReportHoldCopyMissing, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> Hold:
    """The IN_TRANSIT (or READY) hold's copy is missing: the catalog has it LOST (or `copy_status`), the hold is
    WAITING again and is offered another copy at once (IN_TRANSIT with it, on the pull list), as a new hold would
    be (`zone`: the library's, for the holds the queue makes READY). A retry with the same request_id gets the
    hold as it is now."""
    cmd.actor.ensure_staff("report copies missing")
    if cmd.copy_status not in OUT_OF_CIRCULATION:
        raise InvalidArgument.field("copy_status", "may be LOST, DAMAGED or WITHDRAWN")
    async with uow:
        previous = await uow.requests.recall(cmd.request_id, _REPORT)
        hold = await uow.holds.get(cmd.hold_id)
    if previous:
        return hold
    hold = await retry_conflicts(lambda: _report_under_lock(cmd, uow=uow, clock=clock, catalog=catalog))
    await after_commit(serve_queue(hold.book, uow=uow, clock=clock, catalog=catalog, zone=zone), hold.name)
    return await _as_it_is_now(hold.id, uow=uow)


async def _as_it_is_now(hold_id: uuid.UUID, *, uow: LoansUnitOfWork) -> Hold:
    """The hold read as GetHold reads it: with its place in the queue when WAITING (finding F2: the saved hold
    answered 0, "not waiting", where GetHold said 1)."""
    async with uow.reading():
        return await uow.holds.get(hold_id)


async def _report_under_lock(
    cmd: ReportHoldCopyMissing, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog
) -> Hold:
    """The catalog's step and the hold WAITING again, with the hold's row locked from the check to the commit.

    Why the lock across the catalog's call: checked on a hold read before a cancel committed, the catalog made the
    copy LOST for a hold that had ended meanwhile, and the report answered the CANCELLED hold with no
    `hold_copy_missing` record (finding C6). Locked, a cancel committed first is seen here and the report refused
    before the catalog is asked; a cancel that comes while the catalog is asked waits and then loses its race
    (CONCURRENT_UPDATE: the runtime repeats it, and it cancels the WAITING hold). A crash after the catalog's step,
    before the commit, leaves the copy LOST for a hold still set aside here, which the reconciler finishes
    (finding C1). The catalog's call is short and the lock is on this one hold's row only."""
    async with uow:
        hold = await uow.holds.get(cmd.hold_id, for_update=True)
        hold.check_etag(cmd.etag)
        if not hold.set_aside or (cmd.copy and cmd.copy != hold.copy):
            held = f" with {hold.copy}" if hold.copy else ""
            raise FailedPrecondition(
                f"{hold.name} is {hold.status.lower().replace('_', ' ')}{held}: no copy is set aside for it to report",
                reason="HOLD_NOT_IN_TRANSIT",
                metadata={"hold": hold.name, "copy": hold.copy},
            )
        await catalog.report_missing(copy=hold.copy, hold=hold.name, status=cmd.copy_status)
        hold.copy_missing(now=clock.now(), reported_by=cmd.actor.user, copy_status=cmd.copy_status)
        await uow.holds.save(hold)
        await uow.requests.remember(cmd.request_id, _REPORT, hold.name)
        await uow.commit()
    return hold
