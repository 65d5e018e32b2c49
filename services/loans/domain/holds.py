"""Holds: a patron's place in the queue for a book, the hold shelf and its pickup window; how a hold moves (what it
records: hold_record.py; its events: hold_events.py; back to the queue from a copy set aside: hold_requeues.py).

Pure: no I/O. WAITING -> IN_TRANSIT (a copy is set aside for it: on the open shelf to be pulled, or sent from
another branch) -> READY (received at the pickup desk: on the hold shelf until `expire_at`, the end of a library
day) -> FULFILLED (borrowed), or CANCELLED / EXPIRED (READY only). A copy trapped at the pickup desk makes a
WAITING hold READY at once; an IN_TRANSIT hold whose patron may not borrow when its copy arrives waits again
(`back_in_queue`). A hold that ends with a copy set aside leaves it so until the catalog is told to
release it: `shelf_released` records that step, so a crash in between is repaired.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo

from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDays, end_of_open_day_after
from services.loans.domain.hold_events import (
    HoldCancelled,
    HoldCopyReceived,
    HoldExpired,
    HoldFulfilled,
    HoldInTransit,
    HoldPickupBranchChanged,
    HoldPlaced,
    HoldReady,
)
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.hold_requeues import HoldRequeues
from services.support.runtime.branches import same_branch
from services.support.runtime.errors import FailedPrecondition, NotFound

BOOK_REMOVED = "the book was removed from the catalog"
"""Why the holds of a book deleted from the catalog were cancelled."""
ACCOUNT_CLOSED = "the account was closed"
"""Why the holds of a deactivated account were cancelled."""


def sent_elsewhere(pickup_branch: str, *, desk: str) -> bool:
    """A copy trapped at `desk` for a hold picked up at `pickup_branch` is sent there (IN_TRANSIT): both known
    and not the same. A desk that does not say where it is is taken to be the pickup branch, as before branches
    were compared."""
    return bool(pickup_branch.strip()) and bool(desk.strip()) and not same_branch(pickup_branch, desk)


@dataclass(slots=True)
class Hold(HoldRequeues):
    """A hold (its fields: HoldRecord) as it moves: placed, set aside, on the hold shelf, ended."""

    @classmethod
    def place(
        cls,
        *,
        patron: str,
        book: str,
        pickup_branch: str,
        pickup_days: int,
        now: datetime,
        book_title: str = "",
        book_language: str = "",
    ) -> Hold:
        hold = cls(
            id=uuid.uuid4(),
            patron=patron,
            book=book,
            status=HoldStatus.WAITING,
            pickup_days=pickup_days,
            created_at=now,
            updated_at=now,
            pickup_branch=pickup_branch,
            book_title=book_title,
            book_language=book_language,
        )
        hold.events.append(HoldPlaced(occurred_at=now, hold=hold))
        return hold

    def send(
        self, copy: str, *, now: datetime, sent: bool = False, from_branch: str = "", hold_shelf_branch: str = ""
    ) -> None:
        """A copy was set aside for this hold, not yet on the hold shelf of its pickup branch (to be pulled from
        the open shelf, or sent from another branch): IN_TRANSIT. The pickup window starts when it is received
        there (`make_ready`); the patron is told then, not before anyone has the copy in hand. `sent`: already on
        its way (trapped by a return at another branch), else still to pull: from the hold shelf of
        `hold_shelf_branch` when set (left there by a READY hold that ended), else from the open shelf.
        `from_branch`: where it leaves from, for the audit trail (HoldInTransit)."""
        if self.status != HoldStatus.WAITING:
            raise FailedPrecondition(f"{self.name} is {self.status.lower()}, not waiting", reason="HOLD_NOT_WAITING")
        self.status = HoldStatus.IN_TRANSIT
        self.copy = copy
        self.to_pull = not sent
        self.hold_shelf_branch = "" if sent else hold_shelf_branch.strip()
        self.shelf_released = False
        self.queue_position = 0
        self._touch(now)
        self._in_transit(now, from_branch)

    def _in_transit(self, now: datetime, from_branch: str) -> None:
        to_branch = self.pickup_branch.strip()
        self.events.append(HoldInTransit(occurred_at=now, hold=self, from_branch=from_branch, to_branch=to_branch))

    def make_ready(
        self,
        copy: str,
        *,
        now: datetime,
        zone: tzinfo,
        at_branch: str = "",
        closed: ClosedDays = NO_CLOSED_DAYS,
    ) -> None:
        """A copy was put on the hold shelf for this patron (trapped at the pickup desk, or its copy in transit
        received there): they may collect it until the end of the library's day (in `zone`) `pickup_days` days
        later, as a loan is due (Koha's pickup delay gives a date too). Counted to the second of the trap, a
        copy put aside in the evening lapsed before the library opened on the last day, while the patron was
        told only the date. A deadline on a day the library is `closed` moves to the end of the next open day. A
        hold that named no pickup branch waits at `at_branch`, the desk's that shelved it: its notice and the
        hold shelf say where."""
        in_transit_with_it = self.status == HoldStatus.IN_TRANSIT and self.copy == copy
        if self.status != HoldStatus.WAITING and not in_transit_with_it:
            raise FailedPrecondition(f"{self.name} is {self.status.lower()}, not waiting", reason="HOLD_NOT_WAITING")
        self.status = HoldStatus.READY
        self.copy = copy
        self.to_pull, self.hold_shelf_branch = False, ""
        if not self.pickup_branch.strip():
            self.pickup_branch = at_branch.strip()
        self.ready_at = now
        self.expire_at = end_of_open_day_after(now, self.pickup_days, zone, closed)
        self.shelf_released = False
        self.queue_position = 0
        self._touch(now)
        self.events.append(HoldReady(occurred_at=now, hold=self))

    def receive(
        self, copy: str, *, now: datetime, zone: tzinfo, at_branch: str = "", closed: ClosedDays = NO_CLOSED_DAYS
    ) -> None:
        """Its copy in transit was received at the pickup desk of `at_branch`: READY (`make_ready`), the receipt
        recorded for the audit trail (HoldCopyReceived)."""
        self.make_ready(copy, now=now, zone=zone, at_branch=at_branch, closed=closed)
        self.events.append(HoldCopyReceived(occurred_at=now, hold=self, branch=at_branch.strip()))

    def receive_instead(
        self, copy: str, *, now: datetime, zone: tzinfo, at_branch: str, closed: ClosedDays = NO_CLOSED_DAYS
    ) -> None:
        """Its copy in transit was received at a desk of `at_branch` though the hold is picked up elsewhere, at a
        branch no desk may receive at (not among the library's branches: placed before they were listed, finding
        upgrade F2). The reader collects it here: READY at `at_branch`, which becomes its pickup branch (the
        notice and the hold shelf say where). A librarian holding the book expects to shelve it for the reader
        rather than pass it on: the reader asked for it first, and sent on it would go to a branch that cannot
        take it either."""
        if self.status != HoldStatus.IN_TRANSIT or self.copy != copy:
            raise FailedPrecondition(f"{self.name} is {self.status.lower()}, not in transit", reason="HOLD_NOT_WAITING")
        self.pickup_branch = at_branch.strip()
        self.receive(copy, now=now, zone=zone, at_branch=at_branch, closed=closed)

    def fulfil(self, loan: str, *, copy: str, now: datetime) -> None:
        """The patron borrowed the book: the held copy left the shelf on the loan, or (staff lent them
        another copy) it stays on the shelf, to be released and offered to the next in the queue. A WAITING
        hold is filled too (lent a copy before one was trapped for it), as Koha and Evergreen fill it at
        check-out: left in the queue, it would have the next copy trapped for a patron who has the book."""
        if not self.is_active:
            raise FailedPrecondition(f"{self.name} is not ready for pickup", reason="HOLD_NOT_READY")
        self.shelf_released = self.status == HoldStatus.WAITING or copy == self.copy
        self.status = HoldStatus.FULFILLED
        self.loan = loan
        self.queue_position = 0
        self._touch(now)
        self.events.append(HoldFulfilled(occurred_at=now, hold=self))

    def take_shelf_copy(
        self,
        copy: str,
        *,
        in_transit: bool = False,
        now: datetime,
        zone: tzinfo,
        at_branch: str = "",
        sent: bool = False,
        from_branch: str = "",
        hold_shelf_branch: str = "",
        closed: ClosedDays = NO_CLOSED_DAYS,
    ) -> bool:
        """The catalog set `copy` aside for this hold, on the hold shelf (or, `in_transit`, on its way there): a
        WAITING hold becomes READY (IN_TRANSIT) with it; an ended hold without a copy keeps it, to release it.
        False when the hold has another copy already (or is set aside): then `copy` is one too many, to take
        off the shelf at once. `at_branch`: the desk's branch, where a hold with no pickup branch waits;
        `from_branch`, `hold_shelf_branch`: where a copy in transit leaves from (`send`)."""
        if self.status == HoldStatus.WAITING:
            if in_transit:
                self.send(copy, now=now, sent=sent, from_branch=from_branch, hold_shelf_branch=hold_shelf_branch)
            else:
                self.make_ready(copy, now=now, zone=zone, at_branch=at_branch, closed=closed)
            return True
        if self.copy or self.set_aside:
            return False
        self.copy, self.shelf_released = copy, False
        self._touch(now)
        return True

    def pulled_and_sent(self, now: datetime, *, at_branch: str = "") -> bool:
        """Its copy, pulled at another branch than the pickup one (`at_branch`), was sent on: no longer to pull.
        Whether it changed."""
        if self.status != HoldStatus.IN_TRANSIT or not self.to_pull:
            return False
        self.to_pull, self.hold_shelf_branch = False, ""
        self._touch(now)
        self._in_transit(now, at_branch.strip())
        return True

    def change_pickup_branch(self, branch: str, *, now: datetime, changed_by: str) -> bool:
        """To be picked up at `branch` (a code of the library's, as kept) while it waits in the queue, at the same
        place (Koha and Evergreen change a hold's pickup location until it is captured). The same branch, by
        `same_branch`, changes nothing (False), whatever the status. Once a copy is set aside for it (on its way to
        the hold shelf of its branch, or on it) the branch is fixed: the copy is bound there."""
        if same_branch(branch, self.pickup_branch):
            return False
        self._ensure_active()
        if self.status != HoldStatus.WAITING:
            raise FailedPrecondition(
                f"{self.name} is {self.status.lower().replace('_', ' ')}: a copy is set aside for it at"
                f" {self.pickup_branch.strip() or 'its branch'}, so its pickup branch can no longer change",
                reason="HOLD_COPY_SET_ASIDE",
                metadata={"hold": self.name, "status": self.status.value, "pickup_branch": self.pickup_branch},
            )
        previous, self.pickup_branch = self.pickup_branch, branch.strip()
        self._touch(now)
        self.events.append(
            HoldPickupBranchChanged(occurred_at=now, hold=self, previous_pickup_branch=previous, changed_by=changed_by)
        )
        return True

    def cancel(self, reason: str, *, now: datetime, by_patron: bool = False) -> None:
        """-> CANCELLED (`by_patron`: by its own patron, not staff or the system; the event says which)."""
        self._ensure_active()
        previous = self.status
        self.status = HoldStatus.CANCELLED
        self.cancel_reason = reason
        self.queue_position = 0
        self._touch(now)
        self.events.append(HoldCancelled(occurred_at=now, hold=self, previous_status=previous, by_patron=by_patron))

    def expire(self, *, now: datetime, next_reader_waiting: bool = False) -> bool:
        """READY past its pickup deadline -> EXPIRED; False when not due yet. `next_reader_waiting`: another
        patron waits for the book (the reader's notice says where the copy goes)."""
        if not self.past_pickup(now):
            return False
        self.status = HoldStatus.EXPIRED
        self._touch(now)
        self.events.append(HoldExpired(occurred_at=now, hold=self, next_reader_waiting=next_reader_waiting))
        return True

    def mark_shelf_released(self, now: datetime) -> None:
        self.shelf_released = True
        self._touch(now)


class HoldNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")
