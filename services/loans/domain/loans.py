"""The loan aggregate's transitions (its record, loan_record.py; its events, loan_events.py) and who may see it.

Pure: no I/O, no grpc, no sqlalchemy. A loan is PENDING while the issue saga runs (it is the saga's log:
the catalog step is recorded before it is taken), ACTIVE once the copy is out, RETURNED, LOST (declared lost
by staff: it will not come back), or FAILED when the saga gave up (then `compensated` says whether the copy
has been put back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS, ClosedDays
from services.loans.domain.fines import Fine
from services.loans.domain.loan_events import LoanDueSoon, LoanIssued, LoanOverdue, LoanRenewed, LoanReturned
from services.loans.domain.loan_record import VISIBLE, LoanRecord, LoanStatus
from services.loans.domain.reminders import ReminderSchedule, reminder_event_id
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.events import DomainEvent


@dataclass(slots=True)
class Loan(LoanRecord):
    """A loan (its fields: LoanRecord) as it moves: the issue saga's steps, renewals, its return, its reminders."""

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
        self.book_title, self.book_language = book_title, copy.book_language
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

    def renew(self, *, now: datetime, others_waiting: bool, zone: tzinfo, closed: ClosedDays = NO_CLOSED_DAYS) -> None:
        """Extend by the renewal period from the current due date (Koha's RenewalPeriodBase=date_due, its
        default), within the rule's limits, to the next open day if the library is `closed` on the new due date.
        Counted from now, a renewal on the day of issue moved the due date by seconds and spent one of the
        renewals all the same, and one late within its grace days (or after closed days) gained the late days on
        top of the period. Only were the new due date past already (more grace or closed days than the period
        has) is it counted from now: a renewal never leaves the loan overdue."""
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
        new_due = terms.due_at(self.due_at, terms.renewal_period_days, zone, closed)
        if new_due <= now:
            new_due = terms.due_at(now, terms.renewal_period_days, zone, closed)
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


class LoanNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


def visible(loan: Loan) -> Loan:
    """The loan as clients may see it: NOT_FOUND for a saga's PENDING or FAILED record."""
    if loan.status not in VISIBLE:
        raise LoanNotFound(loan.name)
    return loan
