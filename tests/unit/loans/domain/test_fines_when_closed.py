"""Fines count only the days the library is open (Koha's noFinesWhenClosed): a reader cannot bring a book back
through a shut door. The reminders' "days overdue" stay calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from athenaeum.loans.v1 import events_pb2
from services.loans.api import events
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS, open_days_late
from services.loans.domain.loan_events import LoanOverdue, LoanReturned
from services.loans.domain.loans import Loan
from services.loans.domain.losses import begin_declaring_lost, declare_lost
from services.loans.domain.reminders import ReminderSchedule
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.clock import end_of_day
from services.support.runtime.errors import FailedPrecondition

NEW_YORK = ZoneInfo("America/New_York")
ISSUED = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # Friday 4 December, 10:00 in New York: due Friday the 18th
FRIDAY, SATURDAY, SUNDAY, MONDAY = (date(2026, 12, day) for day in (18, 19, 20, 21))
WEEKEND = frozenset({SATURDAY, SUNDAY})
MONDAY_OPENING = datetime(2026, 12, 21, 9, 0, tzinfo=NEW_YORK)


def lent(grace_days: int = 0) -> Loan:
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None,
                      issued_by="users/s", now=ISSUED)  # fmt: skip
    terms = RuleTerms("*", "*", loan_period_days=14, fine_per_day=Decimal("0.25"), grace_days=grace_days)
    copy = CopyInfo("books/b/copies/c", "books/b", "B1", "BOOK", "ON_LOAN")
    loan.activate(copy, rule=CirculationRule.create(terms, now=ISSUED), book_title="Shut", now=ISSUED, zone=NEW_YORK)
    assert loan.due_at == end_of_day(FRIDAY, NEW_YORK)
    return loan


def test_a_book_due_friday_back_monday_over_a_closed_weekend_is_fined_for_one_day() -> None:
    loan = lent()
    assert loan.overdue_days(MONDAY_OPENING, NEW_YORK, closed=WEEKEND) == 1
    assert loan.overdue_fine(MONDAY_OPENING, NEW_YORK, closed=WEEKEND) == Decimal("0.25")
    loan.return_copy(now=MONDAY_OPENING, fine=None, zone=NEW_YORK, closed=WEEKEND)
    event = loan.events[-1]
    assert isinstance(event, LoanReturned) and (event.overdue_days, loan.returned_overdue_days) == (1, 1)


def test_the_reminders_days_past_due_stay_calendar_days() -> None:
    assert lent().days_past_due(MONDAY_OPENING, NEW_YORK) == 3


def test_the_grace_days_are_open_days_too() -> None:
    loan = lent(grace_days=1)
    saturday_closed = frozenset({SATURDAY})
    sunday = datetime(2026, 12, 20, 12, 0, tzinfo=NEW_YORK)
    assert loan.overdue_days(sunday, NEW_YORK, closed=saturday_closed) == 0  # Sunday, open, is the grace day
    assert loan.overdue_days(MONDAY_OPENING, NEW_YORK, closed=saturday_closed) == 1  # Monday is charged


def test_a_closed_day_before_the_due_date_does_not_count() -> None:
    before = frozenset({date(2026, 12, 17), FRIDAY - timedelta(days=7)})
    assert lent().overdue_days(MONDAY_OPENING, NEW_YORK, closed=before) == 3


def test_the_days_are_the_librarys_dates_not_utcs() -> None:
    loan = lent()
    saturday_night = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)  # Sunday in UTC, still Saturday 22:00 in New York
    after_midnight = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)  # Sunday 01:00 in New York
    only_saturday = frozenset({SATURDAY})
    assert loan.is_overdue(saturday_night) and loan.overdue_days(saturday_night, NEW_YORK, closed=only_saturday) == 0
    assert loan.overdue_days(after_midnight, NEW_YORK, closed=only_saturday) == 1


def test_an_active_loan_follows_the_calendar_as_it_is_now() -> None:
    loan = lent()
    assert loan.overdue_days(MONDAY_OPENING, NEW_YORK, closed=NO_CLOSED_DAYS) == 3
    assert loan.overdue_days(MONDAY_OPENING, NEW_YORK, closed=WEEKEND) == 1


def test_a_returned_loan_keeps_the_count_made_at_its_return() -> None:
    loan = lent()
    loan.return_copy(now=MONDAY_OPENING, fine=None, zone=NEW_YORK, closed=NO_CLOSED_DAYS)
    assert loan.overdue_days(MONDAY_OPENING + timedelta(days=9), NEW_YORK, closed=WEEKEND) == 3  # closed later


def test_a_lost_loan_counts_no_more_whatever_the_calendar() -> None:
    loan = lent()
    begin_declaring_lost(loan, MONDAY_OPENING, fee=Decimal("10"), reason="gone")
    declare_lost(loan, now=MONDAY_OPENING, lost_item_fine=None, overdue_fine=None, actor="users/s")
    later = MONDAY_OPENING + timedelta(days=30)
    assert loan.overdue_fine(later, NEW_YORK, closed=WEEKEND) == loan.overdue_fine(later, NEW_YORK, closed=()) == 0


def test_an_overdue_renewal_is_refused_only_for_open_days_past_due() -> None:
    loan = lent()
    sunday = datetime(2026, 12, 20, 12, 0, tzinfo=NEW_YORK)
    loan.renew(now=sunday, others_waiting=False, zone=NEW_YORK, closed=WEEKEND)  # no open day missed yet
    # From Friday, its due date (Koha's date_due base), not from the Sunday it was renewed on (finding M8).
    assert loan.renewal_count == 1 and loan.due_at == end_of_day(date(2027, 1, 1), NEW_YORK)
    with pytest.raises(FailedPrecondition) as refused:
        lent().renew(now=MONDAY_OPENING, others_waiting=False, zone=NEW_YORK, closed=WEEKEND)
    assert refused.value.reason == "LOAN_OVERDUE"


@pytest.mark.parametrize("closed_count", [1, 200_000], ids=["few-closed", "more-closed-than-late-days"])
def test_the_count_is_right_whichever_side_is_shorter(closed_count: int) -> None:
    due = datetime(2000, 1, 1, 23, 59, tzinfo=UTC)
    at = datetime(2080, 1, 1, 12, tzinfo=UTC)  # 80 years late
    closed = frozenset(date(2000, 1, 2) + timedelta(days=n) for n in range(closed_count))
    late = (at.date() - due.date()).days
    assert open_days_late(due, at, UTC, closed) == late - min(closed_count, late)


def test_a_due_day_closed_afterwards_makes_the_next_open_day_the_due_day() -> None:
    """Shut on the very day the book was due (a burst pipe), the reader who came the next open day was fined and
    counted overdue for it (M5): the library's first open day after is when it could come back."""
    loan = lent()
    burst_pipe = frozenset({FRIDAY})
    saturday_noon, sunday_noon = (datetime(2026, 12, day, 12, 0, tzinfo=NEW_YORK) for day in (19, 20))
    assert loan.overdue_days(saturday_noon, NEW_YORK, closed=burst_pipe) == 0
    assert loan.overdue_days(sunday_noon, NEW_YORK, closed=burst_pipe) == 1
    long_weekend = WEEKEND | burst_pipe  # Friday closed too: Monday is the day it could come back
    assert loan.overdue_days(MONDAY_OPENING, NEW_YORK, closed=long_weekend) == 0
    assert loan.overdue_days(MONDAY_OPENING + timedelta(days=1), NEW_YORK, closed=long_weekend) == 1
    assert lent(grace_days=1).overdue_days(MONDAY_OPENING + timedelta(days=1), NEW_YORK, closed=long_weekend) == 0
    loan.return_copy(now=MONDAY_OPENING, fine=None, zone=NEW_YORK, closed=long_weekend)
    assert loan.returned_overdue_days == 0


def test_a_due_time_within_its_day_makes_the_rest_of_it_the_first_open_day_late() -> None:
    due = datetime(2026, 12, 18, 12, 0, tzinfo=NEW_YORK)  # a hard due date kept to the instant
    evening = datetime(2026, 12, 18, 18, 0, tzinfo=NEW_YORK)
    assert open_days_late(due, evening, NEW_YORK, NO_CLOSED_DAYS) == 1
    assert open_days_late(due, evening, NEW_YORK, frozenset({FRIDAY})) == 0


def test_an_overdue_notice_carries_calendar_days_and_the_fines_open_days() -> None:
    loan = lent()
    loan.remind(MONDAY_OPENING, ReminderSchedule.of_days((1,)), NEW_YORK, closed=WEEKEND)
    event = loan.events[-1]
    assert isinstance(event, LoanOverdue) and (event.overdue_days, event.chargeable_days) == (3, 1)
    payload = events_pb2.LoanOverdue.FromString(events.encoder(NEW_YORK)(event).payload)
    assert (payload.overdue_days, payload.loan.overdue_days) == (3, 1)
