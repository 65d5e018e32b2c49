"""Where the catalog took a copy from when it set it aside for a hold, for `shelved` (shelf.py): at a desk that
checked it in and sent it on, off the hold shelf or out of the van where an ended hold left it (passed on to the
next), or the open shelf of its branch.
"""

from __future__ import annotations

from datetime import timedelta

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.holds import Hold


def sent_from_a_desk(copy: CopyInfo) -> str | None:
    """For `shelved`: a copy the catalog checked in and sent on for its hold was set aside at a desk (which one
    is not known: ""), not on the open shelf (None): a hold recording it late (a return whose last step did not
    run, repaired) reads as on its way, not to pull."""
    return "" if copy.in_transit and copy.sent else None


async def taken_from(copy: CopyInfo, *, uow: LoansUnitOfWork, within: timedelta) -> tuple[str | None, str]:
    """Where the catalog took `copy` from when it set it aside for a hold, for `shelved` (`at_desk`,
    `hold_shelf_branch`), when the step that did it is not the caller (a crash cut it before loans recorded it).
    Checked in and sent on by a desk; or, set aside from AVAILABLE `within` the saga's time of loans releasing it
    from an ended hold (a READY hold cancelled, its copy passed on to the next: finding C2), where that hold left
    it, on its hold shelf or in the van (the catalog keeps no trace of it: recorded as on the open shelf, staff
    were sent to look there for a copy on the hold shelf); else the open shelf of its branch."""
    if (at_desk := sent_from_a_desk(copy)) is not None or not copy.in_transit:
        return at_desk, ""
    async with uow.reading():
        ended = await uow.holds.last_ended_with(copy.name)
    if ended is None or not ended.shelf_released:
        return None, ""
    if copy.changed_at is not None and abs(copy.changed_at - ended.updated_at) > within:
        return None, ""  # set aside long after: back on the open shelf in between (sent home, lent, ...)
    return passed_on_from(ended)


def passed_on_from(ended: Hold) -> tuple[str | None, str]:
    """For `shelved`, where the copy of an ended hold, released, is when passed on to the next hold: (`at_desk`,
    `hold_shelf_branch`). On the hold shelf it was put on (to pull from there), in the van to the branch a desk sent
    it to (sent on from there when it arrives), else (None, ""): back on the open shelf."""
    if ended.hold_shelf_of_copy:
        return None, ended.hold_shelf_of_copy
    if ended.copy_sent_to:
        return ended.copy_sent_to, ""
    return None, ""
