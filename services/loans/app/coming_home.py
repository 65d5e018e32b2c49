"""A copy moving between branches with no hold (sent home from another branch's hold shelf, sending_home.py, or
moved by a cataloguer) scanned at a desk's Receive (ReceiveHoldCopy): at its own branch it is AVAILABLE again and
the book's queue is served (a hold placed meanwhile may take it at once: it is then received for that hold);
elsewhere the book's queue comes first (finding F3: Koha traps a hold at any check-in, Evergreen's capture beats the
transit home): when a hold may have it, the copy is taken in at the desk, AVAILABLE there, the queue served with it
pulled from there, and received for the hold that took it; one nobody took is sent home again from this desk.
Otherwise nothing changes and the desk is told to send it on.

A copy whose own branch the library does not list (catalogued before the list, finding upgrade F2) cannot be sent
on: no desk may receive it there. Any desk of the list takes it in, AVAILABLE there (a hold of its book takes it
first), and the desk is told to have a cataloguer give the copy one of the library's branches.
"""

from __future__ import annotations

from datetime import tzinfo

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.queue_pages import first_to_hold
from services.loans.app.sending_home import send_home_untaken
from services.loans.app.shelf import serve_queue
from services.loans.domain.borrowing import CopyInfo
from services.support.runtime.branches import same_branch
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition

COPY_IN_TRANSIT_HOME = "COPY_IN_TRANSIT_HOME"
"""ReceiveHoldCopy's reason for a copy moving home scanned at another branch: send it on to `branch`."""
COPY_BRANCH_NOT_LISTED = "COPY_BRANCH_NOT_LISTED"
"""ReceiveHoldCopy's reason for a copy on its way to a branch the library does not list, taken in at the desk and
taken by no hold: it is AVAILABLE there; a cataloguer is to give it one of the library's branches."""
COPY_RECEIVED_HOME = "COPY_RECEIVED_HOME"
"""ReceiveHoldCopy's reason for a copy moving home scanned at its own branch, that no hold took: it is AVAILABLE
again, back to the open shelf."""


def moving_home(copy: CopyInfo) -> bool:
    """IN_TRANSIT with no hold: on its way to its own branch."""
    return copy.status == "IN_TRANSIT" and not copy.current_hold


async def came_home(
    copy: CopyInfo, desk: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> bool:
    """Whether `copy`, moving home and scanned at a desk, is now set aside for a hold (the queue took it: read it
    again and receive it for that hold). False for a copy not moving home; FailedPrecondition saying what to do
    with it otherwise (send it on; or, at its own branch, back to the open shelf, AVAILABLE)."""
    if not moving_home(copy):
        return False
    if uow.branches.receives_for(copy.branch, desk=desk):
        return await _taken_in_for_good(copy, desk, uow=uow, clock=clock, catalog=catalog, zone=zone)
    if not desk.strip() or not same_branch(desk, copy.branch):
        if desk.strip() and await _taken_for_a_hold(copy, desk, uow=uow, clock=clock, catalog=catalog, zone=zone):
            return True  # a hold comes before the journey home
        raise FailedPrecondition(
            f"the copy {copy.barcode} is on its way home to {copy.branch or 'its branch'}: send it on",
            reason=COPY_IN_TRANSIT_HOME,
            metadata={"barcode": copy.barcode, "branch": copy.branch},
        )
    await catalog.receive_home(copy=copy.name, branch=desk)
    await serve_queue(copy.book, uow=uow, clock=clock, catalog=catalog, zone=zone)
    if (await catalog.get_copy(copy.name)).held:
        return True
    raise FailedPrecondition(
        f"the copy {copy.barcode} is back at {copy.branch} and available: put it on the open shelf",
        reason=COPY_RECEIVED_HOME,
        metadata={"barcode": copy.barcode, "branch": copy.branch},
    )


async def _taken_for_a_hold(
    copy: CopyInfo, desk: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> bool:
    """Whether a hold took `copy`, moving home and scanned at a desk of another branch: asked only when one in the
    queue may have a copy of its type (else it stays on its way home untouched). Taken in there, the queue is
    served with it pulled from this desk's branch, as a copy left on a hold shelf is; nobody taking it (another
    copy served the hold), it is sent home again, from here."""
    if await first_to_hold(copy.book, copy.item_type, uow=uow, clock=clock) is None:
        return False
    await catalog.receive_home(copy=copy.name, branch=desk, take_in=True)
    here = {copy.name: desk.strip()}  # as the desk spells it: compared with same_branch, never upper-cased
    served = await serve_queue(copy.book, uow=uow, clock=clock, catalog=catalog, zone=zone, hold_shelves=here)
    await send_home_untaken(here, served, catalog=catalog)
    return (await catalog.get_copy(copy.name)).held


async def _taken_in_for_good(
    copy: CopyInfo, desk: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> bool:
    """`copy` is on its way to a branch the library does not list, scanned at a desk of one it does: taken in
    there (it cannot be sent on), the queue served with it pulled from this desk; one nobody took stays here,
    AVAILABLE (sent "home" again it would be stuck in the van once more)."""
    await catalog.receive_home(copy=copy.name, branch=desk, take_in=True)
    here = {copy.name: uow.branches.spelled(desk, field="branch")}
    await serve_queue(copy.book, uow=uow, clock=clock, catalog=catalog, zone=zone, hold_shelves=here)
    if (await catalog.get_copy(copy.name)).held:
        return True
    raise FailedPrecondition(
        f"the copy {copy.barcode} belongs to {copy.branch.strip()!r}, not a branch of this library: it is available"
        f" here at {here[copy.name]}; put it on the open shelf and have a cataloguer give it one of the library's"
        " branches",
        reason=COPY_BRANCH_NOT_LISTED,
        metadata={"barcode": copy.barcode, "branch": copy.branch},
    )
