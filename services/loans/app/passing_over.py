"""A hold whose patron may not borrow now is passed over on the hold shelf (Koha's CheckReserves skips restricted
patrons, Evergreen's CAPTURE penalty): no copy is set aside for it, and one already on its way is not made
READY when received (the reader would be told "waiting for you" for a book the desk must refuse them). The
copy goes to the next in the queue who may have it, or back on the shelf; the hold keeps its place and is
served again once the account may borrow.

Every path that sets a copy aside asks the same question of the projection of accounts,
`PatronRecord.lending_eligibility`: serving a queue and a return's trap (queue_pages.py `_holdable_by`, and the
return's queue head read with the loan, `LoanRepository.to_return`), a receipt at the desk (receiving.py) and
the reconciler making READY a hold whose copy the catalog shelved (comparing.py), through `may_not_borrow`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, tzinfo

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.sending_home import send_home_untaken
from services.loans.app.shelf import serve_queue
from services.loans.domain.holds import Hold
from services.support.runtime.clock import Clock
from services.support.runtime.conflicts import retry_conflicts
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound

log = logging.getLogger("athenaeum.loans")


async def may_not_borrow(patron: str, *, uow: LoansUnitOfWork, now: datetime) -> bool:
    """Whether the projection of accounts says the patron may not borrow at `now` (blocked, expired, closed). A
    patron without a record is served, as when a queue is served."""
    async with uow.reading():
        records = await uow.patrons.of({patron})
    return any(record.lending_eligibility(now) is None for record in records)


async def pass_over(
    hold: Hold, copy: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo, at_branch: str = ""
) -> bool:
    """The IN_TRANSIT `hold`'s patron may not borrow: its `copy` is released (the catalog first, as everywhere on
    the hold shelf), the hold waits again in its place, and the queue is served (the patron passed over). False
    when the catalog no longer has the copy set aside for the hold (a cancel released it meanwhile) or cannot
    be reached (the hold is left as it was). `at_branch`: where the copy is now (the desk that received it, or
    the hold shelf it was put on): the next hold pulls it from there, not from the open shelf, and one nobody
    takes is sent home from there (finding F4), as a copy left on a hold shelf is. A crash after the catalog's
    release leaves the hold IN_TRANSIT with a copy the catalog has for nobody, or (the queue served meanwhile) for
    the next hold, which loans cannot record while this one names the copy (holds_one_set_aside_per_copy): the
    reconciler finishes the pass-over (set_aside_drift.py, finding C4)."""
    try:
        await catalog.release(copy=copy, hold=hold.name)
    except (DependencyUnavailable, FailedPrecondition, NotFound):
        return False
    await retry_conflicts(lambda: _back_in_queue(hold.id, copy, uow=uow, clock=clock))
    log.info("%s: its patron may not borrow now; %s released to the queue, the hold waits again", hold.name, copy)
    here = {copy: at_branch.strip()} if at_branch.strip() else {}  # compared with same_branch, never upper-cased
    served = await serve_queue(hold.book, uow=uow, clock=clock, catalog=catalog, zone=zone, hold_shelves=here)
    await send_home_untaken(here, served, catalog=catalog)
    return True


async def _back_in_queue(hold_id: uuid.UUID, copy: str, *, uow: LoansUnitOfWork, clock: Clock) -> None:
    async with uow:
        hold = await uow.holds.get(hold_id)
        if hold.back_in_queue(copy, now=clock.now()):
            await uow.holds.save(hold)
            await uow.commit()
