"""A copy: the physical item and how it circulates (the loans service drives that part): the Copy aggregate, its
transitions between statuses and its errors. What it is described by and its statuses are copy_values.py, what
it records as it changes copy_events.py."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.catalog.domain.copy_events import CopyCreated, CopyDeleted, CopyStatusChanged, CopyUpdated
from services.catalog.domain.copy_values import CIRCULATING, OUT_OF_CIRCULATION, CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemTypeFilter
from services.support.runtime.branches import same_branch
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

COPY = NamePattern("books/{book}/copies/{copy}")
COPY_FIELDS = ("barcode", "branch", "shelf_location", "item_type", "status", "call_number")
COPY_OUTPUT_ONLY = (
    "name", "current_loan", "current_hold", "create_time", "update_time", "etag", "book_title", "sent_for_hold",
    "sent_home_from", "book_language",
)  # fmt: skip
MISSING_ON_THE_SHELF = "missing on the shelf"
"""The note of a copy set aside for a hold that staff could not find where it should be (LOST)."""
SENT_HOME = "sent home from the hold shelf at {branch}"
"""The note of a copy released from another branch's hold shelf with nobody to take it (IN_TRANSIT home)."""


@dataclass(slots=True)
class Copy(Versioned):
    """A physical item. Its status is the only source of a book's availability."""

    id: uuid.UUID
    book_id: uuid.UUID
    details: CopyDetails
    created_at: datetime
    updated_at: datetime
    status: CopyStatus = CopyStatus.AVAILABLE
    current_loan: str = ""
    current_hold: str = ""
    sent_for_hold: bool = False
    """IN_TRANSIT for `current_hold` because a desk checked it in and sent it to the hold's pickup branch (a return
    at another branch), not set aside on the open shelf to pull: loans, repairing a step it did not record, tells
    the two apart by it."""
    sent_home_from: str = ""
    """IN_TRANSIT with no hold, released from the hold shelf of this branch (not its own) with nobody to take it:
    staff there send it home to `details.branch` (`send_home`, `receive_home`)."""
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)
    book_title: str = field(default="", compare=False)
    """The book's title when the read brought it along (circulation answers it to loans); not the copy's state."""
    book_language: str = field(default="", compare=False)
    """The book's language, read with `book_title`."""
    not_for_loan: bool = field(default=False, compare=False)
    """Its item type is not for loan (a reference copy), as the read found the list of item types: never lent,
    never set aside for a hold, not counted among a book's available copies."""
    item_type_renamed_at: datetime | None = field(default=None, compare=False)
    """When its item type took its code (a rename), when the read brought it along; None: never renamed."""

    @property
    def lendable_on_shelf(self) -> bool:
        """Counts among its book's `available_copies`: AVAILABLE, and of a type that may be lent."""
        return self.status == CopyStatus.AVAILABLE and not self.not_for_loan

    @property
    def name(self) -> str:
        return COPY.format(self.book_id, self.id)

    @property
    def set_aside(self) -> bool:
        """Held for a hold by circulation: on the hold shelf, or on its way there (IN_TRANSIT for the hold)."""
        in_transit_for_hold = self.status == CopyStatus.IN_TRANSIT and bool(self.current_hold)
        return self.status == CopyStatus.ON_HOLD_SHELF or in_transit_for_hold

    @property
    def in_circulation(self) -> bool:
        """Circulation's to move: on loan or set aside for a hold; a cataloguer may not change its status."""
        return self.status in CIRCULATING or self.set_aside

    @classmethod
    def register(cls, book_id: uuid.UUID, details: CopyDetails, *, now: datetime, status: CopyStatus) -> Copy:
        """A new copy; circulation statuses are for the loans service to set, not for cataloguers."""
        if status in CIRCULATING:
            raise InvalidArgument.field("copy.status", "ON_LOAN and ON_HOLD_SHELF are set by circulation")
        copy = cls(uuid.uuid4(), book_id, details.validated(), created_at=now, updated_at=now, status=status)
        copy.events.append(CopyCreated(occurred_at=now, copy=copy))
        return copy

    def revise(self, changes: CopyDetails, status: CopyStatus | None, paths: tuple[str, ...], *, now: datetime) -> None:
        """Descriptive fields, and the statuses a cataloguer may set (never into or out of circulation)."""
        descriptive = tuple(p for p in paths if p != "status")
        details = dataclasses.replace(self.details, **{p: getattr(changes, p) for p in descriptive}).validated()
        changed = tuple(p for p in descriptive if getattr(details, p) != getattr(self.details, p))
        moves = "status" in paths and status != self.status
        if moves and (status is None or status in CIRCULATING):
            raise InvalidArgument.field("copy.status", "may be AVAILABLE, IN_TRANSIT, LOST, DAMAGED or WITHDRAWN")
        if moves:
            self._refuse_if_circulating("change its status")
        if "barcode" in changed:  # loans keeps the barcode of the loan: a return by the new label found nothing
            self._refuse_if_circulating("change its barcode until it is back")
        if changed:
            previous, self.details, self.updated_at = self.details, details, now
            self.events.append(CopyUpdated(occurred_at=now, copy=self, changed=changed, previous=previous))
        if moves and status is not None:
            self.current_loan = ""  # a copy lost on a loan no longer waits for that loan's check-in
            self._move(status, now)
        elif changed:
            self.version += 1

    def remove(self, *, now: datetime) -> None:
        self._refuse_if_circulating("be deleted")
        self.events.append(CopyDeleted(occurred_at=now, copy=self))

    def check_out(self, loan: str, *, hold: str = "", now: datetime) -> None:
        """ON_LOAN for `loan`; the same loan again is a no-op. A held copy goes only to its own hold's loan, even
        when its item type was made not for loan after it was set aside: the promise to that reader was made
        first (Koha lends a waiting hold's copy too), and the copy stays in the library once the hold ends."""
        if self.status == CopyStatus.ON_LOAN and self.current_loan == loan:
            return
        held_for_this = self.set_aside and bool(hold) and self.current_hold == hold
        if not held_for_this:
            self._refuse_if_not_for_loan("be lent")
        if self.status != CopyStatus.AVAILABLE and not held_for_this:
            raise FailedPrecondition(
                f"{self.name} is {self.status.value}, not available",
                reason="COPY_NOT_AVAILABLE",
                metadata={"copy": self.name, "status": self.status.value},
            )
        self._move(CopyStatus.ON_LOAN, now, loan=loan, hold=self.current_hold)
        self.current_loan, self.current_hold = loan, ""

    def check_in(
        self, loan: str, *, hold: str = "", lost: bool = False, in_transit: bool = False, now: datetime
    ) -> None:
        """Ends `loan`: AVAILABLE, or ON_HOLD_SHELF for `hold` (IN_TRANSIT for it with `in_transit`: to be sent to
        the hold's pickup branch); LOST when `lost` (declared lost), keeping the loan's name so that a check-in of
        it later (the copy found) puts the copy back. A loan already ended is a no-op. A copy not for loan is set
        aside for no hold (the caller, told so by the answer, serves the queue with another copy)."""
        lost_by_loan = self.status == CopyStatus.LOST and self.current_loan == loan
        if (self.status != CopyStatus.ON_LOAN or self.current_loan != loan) and not lost_by_loan:
            if self.status == CopyStatus.ON_LOAN:
                raise FailedPrecondition(f"{self.name} is on another loan", reason="COPY_ON_ANOTHER_LOAN")
            return
        if lost:
            if not lost_by_loan:
                self._move(CopyStatus.LOST, now, loan=loan)
            return
        if self.not_for_loan:  # lent before its type was made not for loan: back, it stays in the library
            hold = ""
        held = CopyStatus.IN_TRANSIT if in_transit else CopyStatus.ON_HOLD_SHELF
        self._move(held if hold else CopyStatus.AVAILABLE, now, loan=loan, hold=hold)
        self.current_loan, self.current_hold = "", hold
        self.sent_for_hold = bool(hold) and in_transit

    def reserve(self, hold: str, *, now: datetime) -> None:
        """Set aside for `hold`: IN_TRANSIT for it (on the pull list: staff fetch it from the open shelf and bring
        it to the pickup desk, `shelve`), not yet on the hold shelf, where it may still be in a reader's hands.
        The same hold again is a no-op, wherever its copy is now."""
        if self.set_aside and self.current_hold == hold:
            return
        self._refuse_if_not_for_loan("be set aside for a hold")
        if self.status != CopyStatus.AVAILABLE:
            raise FailedPrecondition(f"{self.name} is {self.status.value}, not available", reason="COPY_NOT_AVAILABLE")
        self._move(CopyStatus.IN_TRANSIT, now, hold=hold)
        self.current_hold = hold

    def shelve(self, hold: str, *, now: datetime) -> None:
        """IN_TRANSIT for `hold` -> ON_HOLD_SHELF for it (received at the pickup desk); already there is a no-op."""
        if self.status == CopyStatus.ON_HOLD_SHELF and self.current_hold == hold:
            return
        if self.status != CopyStatus.IN_TRANSIT or self.current_hold != hold:
            raise FailedPrecondition(
                f"{self.name} is {self.status.value}, not set aside for {hold}",
                reason="COPY_NOT_HELD",
                metadata={"copy": self.name, "status": self.status.value},
            )
        self._move(CopyStatus.ON_HOLD_SHELF, now, hold=hold)

    def report_missing(self, hold: str, *, now: datetime, status: CopyStatus = CopyStatus.LOST) -> None:
        """Set aside for `hold` and not found (the pull list's copy not on its shelf, or not arrived): LOST, with
        the note MISSING_ON_THE_SHELF, no longer held and not available, until a cataloguer finds it; or taken
        out of circulation by staff with `status` (DAMAGED, WITHDRAWN). One no longer held with that status
        already is left as is (a repeat)."""
        if status not in OUT_OF_CIRCULATION:
            raise InvalidArgument.field("status", "may be LOST, DAMAGED or WITHDRAWN")
        if self.status == status and not self.set_aside:
            return
        if not self.set_aside or self.current_hold != hold:
            raise FailedPrecondition(
                f"{self.name} is {self.status.value}, not set aside for {hold}",
                reason="COPY_NOT_HELD",
                metadata={"copy": self.name, "status": self.status.value},
            )
        self._move(status, now, hold=hold, note=MISSING_ON_THE_SHELF if status == CopyStatus.LOST else "")
        self.current_hold = ""

    def send_home(self, from_branch: str, *, now: datetime) -> None:
        """AVAILABLE on the hold shelf of `from_branch` (a hold there ended and nobody took it): IN_TRANSIT with no
        hold, to its own branch, `sent_home_from` there (its list of copies to send home). At its own branch, with
        no branch to go to, or sent home from there already, nothing changes."""
        origin = from_branch.strip()  # as loans spells it; compared with same_branch (casefold), never upper-cased
        if not origin:
            raise InvalidArgument.field("from_branch", "name the branch whose hold shelf the copy is on")
        home = self.details.branch
        sent_already = self.status == CopyStatus.IN_TRANSIT and same_branch(self.sent_home_from, origin)
        if not home.strip() or same_branch(origin, home) or sent_already:
            return
        if self.status != CopyStatus.AVAILABLE or self.current_hold:
            raise FailedPrecondition(f"{self.name} is {self.status.value}, not available", reason="COPY_NOT_AVAILABLE")
        self._move(CopyStatus.IN_TRANSIT, now, note=SENT_HOME.format(branch=origin))
        self.sent_home_from = origin

    def receive_home(self, branch: str, *, now: datetime, take_in: bool = False) -> None:
        """IN_TRANSIT with no hold (sent home, or moved by a cataloguer) scanned at a desk of `branch`: AVAILABLE at
        its own branch; elsewhere, or AVAILABLE already, nothing changes (the desk sends it on), unless `take_in`:
        AVAILABLE where it is, for a hold of its book to take it there (holds come before the journey home)."""
        if not branch.strip():
            raise InvalidArgument.field("branch", "name the desk's branch")
        if self.status == CopyStatus.AVAILABLE:
            return
        if self.status != CopyStatus.IN_TRANSIT or self.current_hold:
            raise FailedPrecondition(
                f"{self.name} is {self.status.value}, not moving between branches",
                reason="COPY_NOT_IN_TRANSIT",
                metadata={"copy": self.name, "status": self.status.value},
            )
        if take_in or same_branch(branch, self.details.branch):
            self._move(CopyStatus.AVAILABLE, now)

    def release(self, hold: str, *, now: datetime) -> None:
        """Off the hold shelf or out of transit for a hold; a copy no longer held (released, or lent to the
        hold's patron) is left as is, and so is one a cataloguer set IN_TRANSIT (no hold)."""
        if not self.set_aside:
            return
        if self.current_hold != hold:
            raise FailedPrecondition(f"{self.name} is held for another hold", reason="COPY_HELD_FOR_ANOTHER_HOLD")
        self._move(CopyStatus.AVAILABLE, now, hold=hold)
        self.current_hold = ""

    def settle_availability(self, available_copies: int) -> None:
        """Completes pending status events with the book's availability after this transaction's changes."""
        self.events = [
            dataclasses.replace(e, available_copies=available_copies) if isinstance(e, CopyStatusChanged) else e
            for e in self.events
        ]

    def _refuse_if_not_for_loan(self, action: str) -> None:
        if self.not_for_loan:
            raise FailedPrecondition(
                f"{self.name} is of item type {self.details.item_type}, which is not for loan (for use in the "
                f"library only): it cannot {action}",
                reason="NOT_FOR_LOAN",
                metadata={"copy": self.name, "item_type": self.details.item_type},
            )

    def _refuse_if_circulating(self, action: str) -> None:
        if self.in_circulation:
            held = f" for {self.current_hold}" if self.current_hold else ""
            raise FailedPrecondition(
                f"{self.name} is {self.status.value}{held} and cannot {action}", reason="COPY_IN_CIRCULATION"
            )

    def _move(self, status: CopyStatus, now: datetime, *, loan: str = "", hold: str = "", note: str = "") -> None:
        previous, self.status = self.status, status
        self.updated_at, self.version = now, self.version + 1
        self.sent_for_hold = False  # a check-in sending it on for a hold sets it again
        self.sent_home_from = ""  # so does sending it home
        self.events.append(
            CopyStatusChanged(
                occurred_at=now, copy=self, previous=previous, status=status, loan=loan, hold=hold, note=note
            )
        )


class CopyNotFound(NotFound):
    def __init__(self, book_id: uuid.UUID, copy_id: uuid.UUID) -> None:
        name = COPY.format(book_id, copy_id)
        super().__init__(name, f"{name} not found")


class BarcodeNotFound(NotFound):
    def __init__(self, barcode: str) -> None:
        super().__init__(f"copies/-?barcode={barcode}", f"no copy has barcode {barcode}", reason="BARCODE_NOT_FOUND")


class NoCopyAvailable(FailedPrecondition):
    def __init__(self, book: str, item_types: ItemTypeFilter | None = None) -> None:
        kinds = f" {item_types.described}" if item_types is not None and item_types.narrows else ""
        super().__init__(f"no copy of {book}{kinds} is available", reason="NO_COPY_AVAILABLE", metadata={"book": book})
