"""How a hold with a copy set aside goes back to waiting without it, at its place in the queue: its patron
may not borrow when the copy arrives, the catalog no longer has the copy set aside for it, or staff cannot find
the copy. Pure: no I/O. The methods of Hold (holds.py), which is the only class built on this one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from services.loans.domain.hold_events import HoldCopyMissing, HoldPassedOver
from services.loans.domain.hold_record import HoldRecord, HoldStatus
from services.support.runtime.errors import FailedPrecondition

if TYPE_CHECKING:
    from services.loans.domain.holds import Hold


class HoldRequeues(HoldRecord):
    """A hold's ways back to the queue from a copy set aside. Only Hold is built on it: `self` is always a Hold,
    which its events name (the casts)."""

    __slots__ = ()

    def back_in_queue(self, copy: str, *, now: datetime) -> bool:
        """IN_TRANSIT with `copy`, whose patron may not borrow now (blocked, expired): the catalog released the
        copy for the next in the queue, and the hold waits again in its place (its queue order is its placing),
        to be served once the account may borrow; its reader is told (HoldPassedOver). False when it is not so any
        more (nothing changed)."""
        if self.status != HoldStatus.IN_TRANSIT or self.copy != copy:
            return False
        previous, self.status = self.status, HoldStatus.WAITING
        self._forget_copy()
        self.to_pull = False
        self.shelf_released = True
        self.hold_shelf_branch = ""
        self._touch(now)
        hold = cast("Hold", self)
        self.events.append(HoldPassedOver(occurred_at=now, hold=hold, copy=copy, previous_status=previous))
        return True

    def requeue_without_copy(self, copy: str, *, now: datetime) -> bool:
        """Set aside with `copy` here, which the catalog no longer has set aside for it (a step cut by a crash
        released it, or set it aside for another hold: finding C4): WAITING again at its place in the queue, for
        the next copy to serve. No event: what happened is not the reader's doing nor a missing copy, and the
        queue served next most often gives the hold a copy again at once. False when it is not so (unchanged)."""
        if not self.set_aside or self.copy != copy:
            return False
        self.status, self.to_pull, self.shelf_released = HoldStatus.WAITING, False, True
        self._forget_copy()
        self.hold_shelf_branch, self.ready_at, self.expire_at = "", None, None
        self._touch(now)
        return True

    def copy_missing(self, *, now: datetime, reported_by: str, copy_status: str = "LOST") -> None:
        """Staff could not find the copy set aside for this hold (not on its shelf when pulled, never arrived), or
        took it out of circulation (`copy_status` DAMAGED, WITHDRAWN; on the hold shelf of a READY hold too):
        back to WAITING, at its place in the queue (its creation), with no copy nor pickup deadline, for the next
        copy to serve (Evergreen's "mark item missing", Koha's "revert waiting status")."""
        if not self.set_aside:
            raise FailedPrecondition(
                f"{self.name} is {self.status.lower()}, with no copy set aside", reason="HOLD_NOT_IN_TRANSIT"
            )
        missing, previous = self.copy, self.status
        self.status, self.to_pull, self.shelf_released = HoldStatus.WAITING, False, True
        self._forget_copy()
        self.hold_shelf_branch, self.ready_at, self.expire_at = "", None, None
        self._touch(now)
        self.events.append(
            HoldCopyMissing(
                occurred_at=now,
                hold=cast("Hold", self),
                copy=missing,
                reported_by=reported_by,
                copy_status=copy_status,
                previous_status=previous,
            )
        )
