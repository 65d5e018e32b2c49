"""What a loan records, and what that says of it: its status, the fields the repository stores, how late it is
(for reminders and fines) and whether a renewal could extend it. Its transitions, each recording its event,
are Loan's (loans.py).

Pure: no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum

from services.loans.domain.calendar import ClosedDays, open_days_late
from services.loans.domain.money import ZERO
from services.loans.domain.periods import days_between
from services.loans.domain.rules import RuleTerms
from services.support.runtime.errors import FailedPrecondition
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.versioning import Versioned

LOAN = NamePattern("loans/{loan}")


class LoanStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    RETURNED = "RETURNED"
    FAILED = "FAILED"
    LOST = "LOST"


VISIBLE = (LoanStatus.ACTIVE, LoanStatus.RETURNED, LoanStatus.LOST)
"""The loans clients see: a PENDING or FAILED loan is only the issue saga's record."""


@dataclass(slots=True)
class LoanRecord(Versioned):
    id: uuid.UUID
    patron: str
    status: LoanStatus
    created_at: datetime
    updated_at: datetime
    book: str = ""
    barcode: str = ""
    requested_copy: str = ""
    """The copy asked for (the held copy on the hold shelf), if the request named one."""
    request_id: uuid.UUID | None = None
    hold: str = ""
    copy: str = ""
    book_title: str = ""
    book_language: str = ""
    item_type: str = ""
    issued_at: datetime | None = None
    due_at: datetime | None = None
    returned_at: datetime | None = None
    renewal_count: int = 0
    rule: str = ""
    terms: RuleTerms | None = None
    """The rule's terms when issued: later rule changes apply to new loans only."""
    issued_by: str = ""
    compensated: bool = True
    failure_reason: str = ""
    reminders_sent: int = 0
    """Steps of the reminder schedule done with for the current due date (announced, or passed over)."""
    next_reminder_at: datetime | None = None
    """When the reminder pass looks at the loan next (None: the schedule is done)."""
    return_started_at: datetime | None = None
    """When a return was begun and not finished (the return saga's record, kept before the catalog is asked):
    the copy may be back in the catalog while the loan is still ACTIVE here."""
    returned_overdue_days: int | None = None
    """The overdue days the return counted (the fine's), kept: a returned loan says how late it came back. None
    for a loan returned before they were kept (then counted from `returned_at`)."""
    fine: str = ""
    """"fines/{fine}": the overdue fine its return assessed or brought up to date, if any."""
    lost_fee: Decimal | None = None
    """Set with `return_started_at` when the begun end is a declaration of loss (DeclareLoanLost's note): the
    LOST_ITEM fine to assess. None for a return."""
    lost_reason: str = ""
    """Why it was declared lost (with `lost_fee`)."""
    lost_fine: str = ""
    """The LOST_ITEM fine ("fines/{id}") assessed when declared LOST; "" when it charged nothing."""
    trapped_hold: str = ""
    """Set by its return: the hold its copy was trapped for, "" when none (kept, so that a retry of the return
    is answered as the first was)."""
    transit_branch: str = ""
    """With `trapped_hold`: the pickup branch the copy is sent to (IN_TRANSIT); "" when it went on the desk's
    hold shelf."""
    return_request: str = ""
    """The request_id of the return begun (its note; "" none given): a retry of it finds the loan closed by
    another step (the reconciler finishing it after a crash) and is answered with it, as the first call would
    have been, not LOAN_ALREADY_RETURNED (finding C3)."""
    refund_due: Decimal = ZERO
    """Not kept: set by the return of a copy declared lost and found, what was paid of its LOST_ITEM fine and is
    owed back (the fine keeps it), for the desk's answer."""
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)
    name: str = field(init=False, repr=False, compare=False)
    """loans/{id}, derived from the id once."""

    def __post_init__(self) -> None:
        self.name = LOAN.format(self.id)

    def has_barcode(self, barcode: str) -> bool:
        """Whether a scanned barcode is this loan's copy's: the catalog matches barcodes whatever their case."""
        return self.barcode.lower() == barcode.lower()

    @property
    def max_renewals(self) -> int:
        return self.terms.max_renewals if self.terms else 0

    def days_past_due(self, now: datetime, zone: tzinfo) -> int:
        """The library's days begun since the due time, as dates in its time zone `zone`: none on the due day
        (it ends at the due time), one from the next midnight there, two from the one after, however long
        those days are. At least one as soon as the loan is overdue, so that "overdue" (which blocks
        borrowing) and the fine's count of days agree: a due time within its day (a hard due date kept to
        the instant, before it was moved to the end of its day) makes the rest of that day the first. Calendar
        days, closed ones too: the reminders' steps ("3 days overdue"); a fine counts open days (`overdue_days`)."""
        return self._days_late(now, zone) if self.status == LoanStatus.ACTIVE else 0

    def _days_late(self, at: datetime, zone: tzinfo) -> int:
        if self.due_at is None or at <= self.due_at:
            return 0
        return max(days_between(self.due_at, at, zone), 1)

    def is_overdue(self, now: datetime) -> bool:
        return self.status == LoanStatus.ACTIVE and self.due_at is not None and now > self.due_at

    def overdue_days(self, now: datetime, zone: tzinfo, *, closed: ClosedDays) -> int:
        """The library's open days past due (none counted on a day it is `closed`) after the grace days, open
        days too: the days a fine is charged for. For a returned loan, those it was overdue when it came back (a
        day closed since does not rewrite them); none for a lost one (its fine is frozen, `fine`)."""
        if self.status == LoanStatus.RETURNED and self.returned_overdue_days is not None:
            return self.returned_overdue_days
        if self.status == LoanStatus.RETURNED:  # returned before its count was kept: its fine counted every day
            late = self._days_late(self.returned_at, zone) if self.returned_at else 0
        elif self.status == LoanStatus.ACTIVE and self.due_at is not None:
            late = open_days_late(self.due_at, now, zone, closed)
        else:
            late = 0
        grace = self.terms.grace_days if self.terms else 0
        return max(late - grace, 0)

    def overdue_fine(self, now: datetime, zone: tzinfo, *, closed: ClosedDays) -> Decimal:
        return self.terms.overdue_fine(self.overdue_days(now, zone, closed=closed)) if self.terms else ZERO

    @property
    def being_declared_lost(self) -> bool:
        return self.status == LoanStatus.ACTIVE and self.return_started_at is not None and self.lost_fee is not None

    def closed_for(self, request_id: uuid.UUID | None) -> bool:
        """RETURNED from the return begun by the call `request_id`: its retry gets the loan, not a refusal."""
        mine = request_id is not None and self.return_request == str(request_id)
        return mine and self.status == LoanStatus.RETURNED

    def renewable(self, zone: tzinfo) -> bool:
        """Renewals are left and the rule's hard due date, if any, ends after the due time (its library day, in
        `zone`): a renewal could extend it (holds waiting for the book, or being overdue by then, may still
        refuse one)."""
        hard_due = self.terms.hard_due_end(zone) if self.terms else None
        left = self.renewal_count < self.max_renewals
        return left and self.due_at is not None and (hard_due is None or hard_due > self.due_at)

    def ensure_active(self) -> None:
        if self.status != LoanStatus.ACTIVE:
            raise FailedPrecondition(f"{self.name} is not active", reason="LOAN_NOT_ACTIVE")

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
