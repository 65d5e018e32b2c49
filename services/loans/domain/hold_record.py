"""What a hold records, and what that says of it: its status, the fields the repository stores (with what the desk
lists show of its book and copy, `describe_copy`), whether it is active or has a copy set aside, and where an ended
hold's copy is. Its transitions, each recording its event, are Hold's (holds.py).

Pure: no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.loans.domain.borrowing import CopyInfo
from services.support.runtime.errors import FailedPrecondition
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

HOLD = NamePattern("holds/{hold}")
COPY = NamePattern("books/{book}/copies/{copy}")
"""The catalog's copy names, as a request spells the copy a hold has."""


class HoldStatus(StrEnum):
    WAITING = "WAITING"
    IN_TRANSIT = "IN_TRANSIT"
    READY = "READY"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


ACTIVE_HOLD_STATUSES = (HoldStatus.WAITING, HoldStatus.IN_TRANSIT, HoldStatus.READY)
SET_ASIDE = (HoldStatus.IN_TRANSIT, HoldStatus.READY)
"""The active holds with a copy: on its way to the hold shelf, or on it."""


@dataclass(slots=True)
class HoldRecord(Versioned):
    id: uuid.UUID
    patron: str
    book: str
    status: HoldStatus
    pickup_days: int
    created_at: datetime
    updated_at: datetime
    pickup_branch: str = ""
    copy: str = ""
    loan: str = ""
    ready_at: datetime | None = None
    expire_at: datetime | None = None
    cancel_reason: str = ""
    shelf_released: bool = True
    to_pull: bool = False
    """IN_TRANSIT with its copy still on the open shelf of the copy's branch, for staff there to pull; False once
    sent (trapped by a return at another branch, or pulled and sent on): on its way to the pickup branch."""
    hold_shelf_branch: str = ""
    """With `to_pull`: the branch whose hold shelf the copy sits on (a READY hold's copy passed on to this one when
    that hold ended): staff take it off there; "" on the open shelf of the copy's branch."""
    book_title: str = ""
    """As the catalog had it when the hold was placed: lists of holds show it without asking the catalog."""
    book_language: str = ""
    """The book's language, kept with its title (the lists mark the title with it)."""
    barcode: str = ""
    """What the desk lists of `copy` (its barcode, owning branch, call number, shelf), as the catalog described
    it when set aside; "" while there is no copy, or until it is described (`describe_copy`)."""
    copy_branch: str = ""
    call_number: str = ""
    shelf_location: str = ""
    copy_version: int = 0
    """The catalog's version of `copy` its description was read at (0: not known): an older one never replaces it."""
    queue_position: int = 0
    """1 = next in line; computed by the repository for WAITING holds."""
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)
    name: str = field(init=False, repr=False, compare=False)
    """holds/{id}, derived from the id once."""

    def __post_init__(self) -> None:
        self.name = HOLD.format(self.id)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_HOLD_STATUSES

    def describe_copy(self, copy: CopyInfo) -> bool:
        """Keep what the desk lists of the hold's copy (barcode, branch, call number, shelf) as the catalog
        describes it, so the hold shelf and the pull list need not ask the catalog for each row. Only for the copy
        the hold has, and only a description at least as new as the one kept (by the catalog's version of the
        copy: a cataloguer's change heard after a later one changes nothing); whether anything changed."""
        if not self.copy or copy.name != self.copy or copy.version < self.copy_version:
            return False  # another copy, or an answer or event older than what the hold keeps (delivered late)
        described = (copy.barcode, copy.branch, copy.call_number, copy.shelf_location, copy.version)
        kept = (self.barcode, self.copy_branch, self.call_number, self.shelf_location, self.copy_version)
        if described == kept:
            return False
        self.barcode, self.copy_branch, self.call_number, self.shelf_location, self.copy_version = described
        if copy.book_title and not self.book_title:
            self.book_title, self.book_language = copy.book_title, copy.book_language
        return True

    def describe_book(self, title: str, language: str = "") -> bool:
        """Keep the book's title (and language) for the lists, if the hold has none yet; whether it changed."""
        if self.book_title or not title:
            return False
        self.book_title, self.book_language = title, language
        return True

    def _forget_copy(self) -> None:
        self.copy, self.copy_version = "", 0
        self.barcode = self.copy_branch = self.call_number = self.shelf_location = ""

    @property
    def set_aside(self) -> bool:
        """Active with a copy: IN_TRANSIT to the hold shelf, or READY on it."""
        return self.status in SET_ASIDE

    def past_pickup(self, now: datetime) -> bool:
        """READY past its pickup deadline (the deadline's own second, the last of its day, is still in time, as
        a loan is not overdue at its due time)."""
        return self.status == HoldStatus.READY and self.expire_at is not None and now > self.expire_at

    @property
    def hold_shelf_of_copy(self) -> str:
        """The branch whose hold shelf its copy was put on (READY; "" not known), or "" if it never was (in
        transit): where the copy of this hold, ended, is taken off to pass it on."""
        return self.pickup_branch.strip() if self.ready_at is not None else ""

    @property
    def copy_sent_to(self) -> str:
        """The branch its copy was sent to by a desk (trapped by a return at another branch, or pulled and sent on)
        and never received at (""  when it was on a shelf: to pull, or on the hold shelf): where the copy of this
        hold, ended, is in the van to, not on any shelf to pass it on from."""
        sent = bool(self.copy) and self.ready_at is None and not self.to_pull
        return self.pickup_branch.strip() if sent else ""

    @property
    def copy_left_on_shelf(self) -> bool:
        """Ended while a copy was set aside for it (on the hold shelf or in transit), and the catalog has not
        released it yet."""
        return not self.is_active and not self.shelf_released and bool(self.copy)

    def _ensure_active(self) -> None:
        if not self.is_active:
            raise FailedPrecondition(f"{self.name} is already {self.status.lower()}", reason="HOLD_NOT_ACTIVE")

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
