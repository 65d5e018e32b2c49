"""A copy moving between branches with no hold (sent home from another branch's hold shelf, sending_home.py, or
moved by a cataloguer) scanned at a desk's Receive (ReceiveHoldCopy): at its own branch it is AVAILABLE again and
the book's queue is served (a hold placed meanwhile may take it at once: it is then received for that hold);
elsewhere nothing changes and the desk is told to send it on.
"""

from __future__ import annotations

from datetime import tzinfo

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import serve_queue
from services.loans.domain.borrowing import CopyInfo
from services.support.runtime.branches import same_branch
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition

COPY_IN_TRANSIT_HOME = "COPY_IN_TRANSIT_HOME"
"""ReceiveHoldCopy's reason for a copy moving home scanned at another branch: send it on to `branch`."""
COPY_RECEIVED_HOME = "COPY_RECEIVED_HOME"
"""ReceiveHoldCopy's reason for a copy moving home scanned at its own branch, that no hold took: it is AVAILABLE
again, back to the open shelf."""


def moving_home(copy: CopyInfo) -> bool:
    """IN_TRANSIT with no hold: on its way to its own branch."""
    return copy.status == "IN_TRANSIT" and not copy.current_hold


async def came_home(
    copy: CopyInfo, desk: str, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo
) -> bool:
    """Whether `copy`, moving home and scanned at a desk of its own branch, is now set aside for a hold (the queue
    took it: read it again and receive it for that hold). False for a copy not moving home; FailedPrecondition
    saying what to do with it otherwise (send it on; or back to the open shelf, AVAILABLE)."""
    if not moving_home(copy):
        return False
    if not desk.strip() or not same_branch(desk, copy.branch):
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
