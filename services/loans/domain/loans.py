"""The loan aggregate, its events and who may see it.

Pure: no I/O, no grpc, no sqlalchemy. A loan is PENDING while the issue saga runs (it is the saga's log:
the catalog step is recorded before it is taken), ACTIVE once the copy is out, RETURNED, LOST (declared lost
by staff: it will not come back), or FAILED when the saga gave up (then `compensated` says whether the copy
has been put back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDays, open_days_late
from services.loans.domain.fines import Fine
from services.loans.domain.loan_events import LoanDueSoon, LoanIssued, LoanOverdue, LoanRenewed, LoanReturned
from services.loans.domain.money import ZERO
from services.loans.domain.periods import days_between
from services.loans.domain.reminders import ReminderSchedule, reminder_event_id
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
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
class Loan(Versioned):
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

    @classmethod
    def begin(
        cls,
        *,
        patron: str,
        book: str,
        barcode: str,
        requested_copy: str,
        hold: str,
        request_id: uuid.UUID | None,
        issued_by: str,
        now: datetime,
    ) -> Loan:
        """The saga's first record: nothing is checked out yet."""
        if not book and not barcode:
            raise InvalidArgument.field("item", "give a barcode or a book")
        return cls(
            id=uuid.uuid4(),
            patron=patron,
            status=LoanStatus.PENDING,
            created_at=now,
            updated_at=now,
            book=book,
            barcode=barcode,
            requested_copy=requested_copy,
            hold=hold,
            request_id=request_id,
            issued_by=issued_by,
            compensated=False,
        )

    def activate(
        self,
        copy: CopyInfo,
        *,
        rule: CirculationRule,
        book_title: str,
        now: datetime,
        zone: tzinfo,
        closed: ClosedDays = NO_CLOSED_DAYS,
    ) -> None:
        """The catalog lent us the copy: the loan starts, due at the end of the rule's last day in the library's
        time zone `zone` (of the next open day if it is `closed` then; or at its hard due date, if sooner)."""
        self._touch(now)
        self.status = LoanStatus.ACTIVE
        self.copy, self.book, self.barcode, self.item_type = copy.name, copy.book, copy.barcode, copy.item_type
        self.book_title = book_title
        self.rule, self.terms = rule.name, rule.terms
        self.issued_at = now
        self.due_at = rule.terms.due_at(now, rule.terms.loan_period_days, zone, closed)
        self.next_reminder_at = now  # the reminder pass works out the schedule's first step
        self.compensated = True
        self.events.append(LoanIssued(occurred_at=now, loan=self))

    def fail(self, reason: str, *, now: datetime, copy_out: bool) -> None:
        """The saga gives up; `copy_out` when the catalog may still have the copy out on this loan."""
        self._touch(now)
        self.status = LoanStatus.FAILED
        self.failure_reason = reason
        self.compensated = not copy_out

    def mark_compensated(self, now: datetime) -> None:
        self._touch(now)
        self.compensated = True

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

    def renew(self, *, now: datetime, others_waiting: bool, zone: tzinfo, closed: ClosedDays = NO_CLOSED_DAYS) -> None:
        """Extend by the renewal period from the current due date (Koha's default base), within the rule's
        limits, to the next open day if the library is `closed` on the new due date. Counted from now, a renewal
        on the day of issue moved the due date by seconds and spent one of the renewals all the same."""
        self.ensure_active()
        terms = self.terms or RuleTerms("*", "*")
        if self.renewal_count >= terms.max_renewals:
            raise FailedPrecondition(
                f"{self.name} was renewed {self.renewal_count} time(s), the limit is {terms.max_renewals}",
                reason="RENEWAL_LIMIT_REACHED",
            )
        if self.overdue_days(now, zone, closed=closed) > 0:
            raise FailedPrecondition(f"{self.name} is overdue; return it first", reason="LOAN_OVERDUE")
        if others_waiting:
            raise FailedPrecondition("other patrons are waiting for this book", reason="HOLDS_WAITING")
        assert self.due_at is not None
        new_due = terms.due_at(max(now, self.due_at), terms.renewal_period_days, zone, closed)
        if terms.hard_due_at is not None and new_due <= self.due_at:
            raise FailedPrecondition(
                f"{self.name} cannot be due later than the rule's hard due date", reason="HARD_DUE_DATE_REACHED"
            )
        previous, self.due_at = self.due_at, max(new_due, self.due_at)
        self.renewal_count += 1
        self.reminders_sent, self.next_reminder_at = 0, now  # a new due date: its schedule starts again
        self._touch(now)
        self.events.append(LoanRenewed(occurred_at=now, loan=self, previous_due_at=previous))

    def begin_return(self, now: datetime, *, request_id: uuid.UUID | None = None) -> None:
        """Record that the copy is being checked in (by the call `request_id`): whoever finds the return
        unfinished can complete it. The copy in hand, a declaration of its loss still under way is forgotten."""
        self.ensure_active()
        self.return_started_at = now
        self.return_request = str(request_id) if request_id is not None else ""
        self.lost_fee, self.lost_reason = None, ""
        self._touch(now)

    @property
    def being_declared_lost(self) -> bool:
        return self.status == LoanStatus.ACTIVE and self.return_started_at is not None and self.lost_fee is not None

    def abandon_return(self, now: datetime) -> None:
        """The catalog still has the copy out on this loan: the begun return (or declaration) never reached it."""
        self.return_started_at, self.return_request = None, ""
        self.lost_fee, self.lost_reason = None, ""
        self._touch(now)

    def return_copy(self, *, now: datetime, fine: Fine | None, zone: tzinfo, closed: ClosedDays) -> None:
        """Back at `now`: its overdue days counted then, on the calendar as it is (`closed`), and kept."""
        if self.status == LoanStatus.RETURNED:
            raise FailedPrecondition(f"{self.name} was already returned", reason="LOAN_ALREADY_RETURNED")
        self.ensure_active()
        overdue_days = self.overdue_days(now, zone, closed=closed)
        self.status = LoanStatus.RETURNED
        self.returned_at = now
        self.returned_overdue_days = overdue_days
        self.fine = fine.name if fine is not None else ""
        self._touch(now)
        self.events.append(LoanReturned(occurred_at=now, loan=self, overdue_days=overdue_days, fine=fine))

    def closed_for(self, request_id: uuid.UUID | None) -> bool:
        """RETURNED from the return begun by the call `request_id`: its retry gets the loan, not a refusal."""
        mine = request_id is not None and self.return_request == str(request_id)
        return mine and self.status == LoanStatus.RETURNED

    def close_as_stale(self, now: datetime) -> None:
        """The catalog has the copy out on another loan, and no return of this one put it back before: a record
        from before a restored backup, whose copy came back on a day not known here. Closed at `now` with no
        overdue fine counted (nor overdue days): the days past due that are known were charged as they came. The copy
        in hand was not this loan's: a retry of the return is not answered with it."""
        self.ensure_active()
        self.status = LoanStatus.RETURNED
        self.return_request = ""
        self.returned_at = now
        self.returned_overdue_days = 0
        self._touch(now)
        self.events.append(LoanReturned(occurred_at=now, loan=self, overdue_days=0, fine=None))

    def remind(self, now: datetime, schedule: ReminderSchedule, zone: tzinfo, *, closed: ClosedDays) -> bool:
        """Announce the latest step of the schedule that has come and was not announced (steps missed while
        nobody looked are not announced late, one after another; nor those that had come before the pass was
        due to look, i.e. before the due date was set); a due-soon step only before the due time. False when
        nothing changed."""
        if self.status != LoanStatus.ACTIVE or self.due_at is None:
            return False
        before = (self.reminders_sent, self.next_reminder_at)
        # Due-soon steps before the look: a loan lent (or renewed) for less than their time ahead of its due date.
        look = min(self.next_reminder_at or self.due_at, self.due_at)
        passed = schedule.steps_before(self.due_at, look)
        step = schedule.step_due(self.due_at, now)
        if step > max(self.reminders_sent, passed):
            overdue = schedule.is_overdue_step(step)
            if overdue or now < self.due_at:
                self.events.append(self._reminder(step, now, zone, closed, overdue=overdue))
        self.reminders_sent = max(self.reminders_sent, passed, step)
        self.next_reminder_at = schedule.moment(self.due_at, self.reminders_sent + 1)
        if (self.reminders_sent, self.next_reminder_at) == before:
            return False
        self._touch(now)
        return True

    def _reminder(self, step: int, now: datetime, zone: tzinfo, closed: ClosedDays, *, overdue: bool) -> DomainEvent:
        event_id = reminder_event_id(self.id, self.renewal_count, step)
        if overdue:
            days, charged = self.days_past_due(now, zone), self.overdue_days(now, zone, closed=closed)
            return LoanOverdue(
                occurred_at=now, event_id=event_id, loan=self, overdue_days=days, step=step, chargeable_days=charged
            )
        renewable = self.renewable(zone)
        return LoanDueSoon(occurred_at=now, event_id=event_id, loan=self, step=step, renewable=renewable)

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


class LoanNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


def visible(loan: Loan) -> Loan:
    """The loan as clients may see it: NOT_FOUND for a saga's PENDING or FAILED record."""
    if loan.status not in VISIBLE:
        raise LoanNotFound(loan.name)
    return loan
