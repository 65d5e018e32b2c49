"""A copy the catalog set aside for a hold, recorded on the hold (the transaction of `shelved`, shelf.py): where
the copy is (`Where`), and the hold READY or IN_TRANSIT with it, described for the desk lists when the catalog's
answer is at hand; a copy the hold does not need is handed back for the caller to take off the shelf.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import tzinfo

from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.holds import Hold
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class Where:
    """Where a copy set aside for a hold is: checked in at a desk (`at_desk`, sent on when in transit), or to
    pull from a hold shelf (`hold_shelf`, a READY hold's copy passed on) or the open shelf of `copy_branch`."""

    at_desk: str | None
    hold_shelf: str
    copy_branch: str
    described: CopyInfo | None = None

    @property
    def leaves_from(self) -> str:
        return (self.at_desk if self.at_desk is not None else self.hold_shelf or self.copy_branch).strip()

    @property
    def waits_at(self) -> str:
        """Where a hold that names no pickup branch waits when the copy goes on a hold shelf: the desk's branch,
        else (a desk that names none) the copy's own, so the reader is told a branch and its hold shelf lists it."""
        owner = self.copy_branch or (self.described.branch if self.described is not None else "")
        return (self.at_desk or "").strip() or owner.strip()


async def record_shelf_copy(
    hold_id: uuid.UUID,
    copy: str,
    in_transit: bool,
    where: Where,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    zone: tzinfo,
) -> tuple[Hold, str]:
    async with uow:
        hold = await uow.holds.get(hold_id)
        if hold.copy == copy:
            return hold, ""  # known already (a twin, or the reconciler, got there first)
        closed = await uow.closed_days.in_force()
        if not hold.take_shelf_copy(
            copy,
            in_transit=in_transit,
            now=clock.now(),
            zone=zone,
            at_branch=where.waits_at,
            sent=where.at_desk is not None,
            from_branch=where.leaves_from,
            hold_shelf_branch="" if where.at_desk is not None else where.hold_shelf,
            closed=closed,
        ):
            return hold, copy
        if where.described is not None:
            hold.describe_copy(where.described)
        await uow.holds.save(hold)
        await uow.commit()
    return hold, ""
