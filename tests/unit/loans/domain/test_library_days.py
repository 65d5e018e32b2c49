"""The library's days across changes of summer time, in real zones: overdue days counted as dates, the end of a
day where 23:59:59 happens twice or not at all, a hold's pickup deadline and a rule's hard due date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.holds import Hold
from services.loans.domain.loan_events import LoanDueSoon
from services.loans.domain.loans import Loan
from services.loans.domain.reminders import ReminderSchedule
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.clock import end_of_day
from services.support.runtime.errors import FailedPrecondition

COPY = CopyInfo(name="books/b/copies/c", book="books/b", barcode="B1", item_type="BOOK", status="ON_LOAN")
SECOND = timedelta(seconds=1)
NEW_YORK, AUCKLAND, LORD_HOWE = (
    ZoneInfo("America/New_York"),
    ZoneInfo("Pacific/Auckland"),
    ZoneInfo("Australia/Lord_Howe"),
)
SANTIAGO, CAIRO = ZoneInfo("America/Santiago"), ZoneInfo("Africa/Cairo")


def local(zone: ZoneInfo, *moment: int) -> datetime:
    """A wall-clock time of the library (one that happens once)."""
    return datetime(*moment, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def loan_due_on(day: date, zone: ZoneInfo, **terms: object) -> Loan:
    """A loan of 14 days issued at noon there, so due at the end of `day` in the library's time zone."""
    issued = local(zone, *(day - timedelta(days=14)).timetuple()[:3], 12)
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None,
                      issued_by="", now=issued)  # fmt: skip
    rule = CirculationRule.create(RuleTerms("*", "*", loan_period_days=14, **terms), now=issued)  # type: ignore[arg-type]
    loan.activate(COPY, rule=rule, book_title="Time Book", now=issued, zone=zone)
    return loan


@pytest.mark.parametrize(
    ("zone", "due_day", "returned", "days"),
    [
        # The clocks went back at 02:00 on 1 November: at 23:30 that Sunday only one day has begun since the
        # Saturday ended (24-hour blocks counted two), and a month later still one less than the blocks.
        (NEW_YORK, date(2026, 10, 31), local(NEW_YORK, 2026, 11, 1, 23, 30), 1),
        (NEW_YORK, date(2026, 10, 20), local(NEW_YORK, 2026, 11, 20, 23, 30), 31),
        # They went forward on 14 March: at 00:30 on Monday the second day has begun (the blocks counted one).
        (NEW_YORK, date(2027, 3, 13), local(NEW_YORK, 2027, 3, 15, 0, 30), 2),
        # The tester's return in Auckland, where summer time ended at 03:00 on Sunday 4 April.
        (AUCKLAND, date(2027, 4, 3), local(AUCKLAND, 2027, 4, 4, 23, 29), 1),
        # Lord Howe changes by 30 minutes: the blocks were a day ahead from 23:30.
        (LORD_HOWE, date(2027, 4, 3), local(LORD_HOWE, 2027, 4, 4, 23, 20), 1),
        (LORD_HOWE, date(2027, 4, 3), local(LORD_HOWE, 2027, 4, 4, 23, 40), 1),
        (LORD_HOWE, date(2027, 4, 3), local(LORD_HOWE, 2027, 4, 5, 0, 0), 2),
    ],
)
def test_overdue_days_are_the_library_days_begun_since_the_due_day_whatever_their_length(
    zone: ZoneInfo, due_day: date, returned: datetime, days: int
) -> None:
    loan = loan_due_on(due_day, zone, fine_per_day=Decimal("0.10"))
    assert loan.due_at is not None and loan.due_at.astimezone(zone).date() == due_day
    assert loan.days_past_due(returned, zone) == days
    assert loan.overdue_fine(returned, zone, closed=NO_CLOSED_DAYS) == Decimal("0.10") * days
    loan.return_copy(now=returned, fine=None, zone=zone, closed=NO_CLOSED_DAYS)
    assert loan.events[-1].overdue_days == days  # type: ignore[attr-defined]


def test_a_grace_day_covers_the_whole_first_library_day_after_the_clocks_go_back() -> None:
    loan = loan_due_on(date(2027, 4, 3), AUCKLAND, grace_days=1, fine_per_day=Decimal("0.10"))
    sunday_evening = local(AUCKLAND, 2027, 4, 4, 23, 29)
    assert loan.is_overdue(sunday_evening) and loan.overdue_days(sunday_evening, AUCKLAND, closed=NO_CLOSED_DAYS) == 0
    assert loan.overdue_fine(sunday_evening, AUCKLAND, closed=NO_CLOSED_DAYS) == 0
    loan.renew(now=sunday_evening, others_waiting=False, zone=AUCKLAND)  # within its grace: still renewable


def test_an_overdue_reminder_counts_library_days() -> None:
    loan = loan_due_on(date(2026, 10, 31), NEW_YORK)
    loan.remind(
        local(NEW_YORK, 2026, 11, 1, 23, 30), ReminderSchedule.of_days((-3, 1)), NEW_YORK, closed=NO_CLOSED_DAYS
    )
    assert [getattr(event, "overdue_days", None) for event in loan.events[-1:]] == [1]


@pytest.mark.parametrize(
    ("zone", "day", "last_second"),
    [
        # Clocks back at 24:00 (Santiago, Cairo): 23:59:59 happens twice; the day ends at the second one.
        (SANTIAGO, date(2027, 4, 3), datetime(2027, 4, 4, 3, 59, 59, tzinfo=UTC)),
        (CAIRO, date(2027, 10, 28), datetime(2027, 10, 28, 21, 59, 59, tzinfo=UTC)),
        # Clocks forward at 24:00 in Santiago: 23:59:59 is the last second, the next is 01:00.
        (SANTIAGO, date(2027, 9, 4), datetime(2027, 9, 5, 3, 59, 59, tzinfo=UTC)),
        # Nuuk jumps from 23:00 to 24:00: no 23:59:59 that Saturday; it ends at 22:59:59 (read with the offset
        # before the jump, 23:59:59 was an hour into Sunday).
        (ZoneInfo("America/Nuuk"), date(2027, 3, 27), datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC)),
        # Toronto, 1919: from 23:30 to 00:30. The day ends at 23:29:59, read with neither offset.
        (ZoneInfo("America/Toronto"), date(1919, 3, 30), datetime(1919, 3, 31, 4, 29, 59, tzinfo=UTC)),
        # Samoa skipped 30 December 2011: that day ends with the 29th, the last second before the 31st.
        (ZoneInfo("Pacific/Apia"), date(2011, 12, 30), datetime(2011, 12, 30, 9, 59, 59, tzinfo=UTC)),
        (LORD_HOWE, date(2027, 4, 4), datetime(2027, 4, 4, 13, 29, 59, tzinfo=UTC)),
    ],
)
def test_a_library_day_ends_at_its_real_last_second(zone: ZoneInfo, day: date, last_second: datetime) -> None:
    end = end_of_day(day, zone)
    assert end == last_second and end.tzinfo is UTC
    assert end.astimezone(zone).date() <= day < (end + SECOND).astimezone(zone).date()


def test_a_loan_due_where_summer_time_ends_at_midnight_is_in_time_for_the_whole_due_day() -> None:
    """Due at the first 23:59:59 of Saturday 3 April in Santiago, a return at 23:29 (the clocks back at 24:00
    to 23:00) was fined a day."""
    loan = loan_due_on(date(2027, 4, 3), SANTIAGO, fine_per_day=Decimal("0.10"))
    assert loan.due_at == datetime(2027, 4, 4, 3, 59, 59, tzinfo=UTC)
    evening = datetime(2027, 4, 4, 3, 29, tzinfo=UTC)  # 23:29 -04, the second time round
    assert evening.astimezone(SANTIAGO).date() == date(2027, 4, 3)
    assert not loan.is_overdue(evening) and loan.overdue_fine(evening, SANTIAGO, closed=NO_CLOSED_DAYS) == 0


@pytest.mark.parametrize(
    ("zone", "ready", "deadline"),
    [
        # Trapped at 07:29 in Santiago on the day summer time ended: until the end of 11 April there (the
        # deadline was 07:29 that morning, before opening, while the patron was told "until 11 Apr").
        (SANTIAGO, datetime(2027, 4, 4, 11, 29, 50, tzinfo=UTC), datetime(2027, 4, 12, 3, 59, 59, tzinfo=UTC)),
        (NEW_YORK, datetime(2026, 12, 6, 17, 5, 54, tzinfo=UTC), datetime(2026, 12, 14, 4, 59, 59, tzinfo=UTC)),
        # Trapped late on a Saturday in Auckland before the clocks went back: 7 days of dates, not of 24 hours.
        (AUCKLAND, local(AUCKLAND, 2027, 3, 27, 22, 0), local(AUCKLAND, 2027, 4, 3, 23, 59, 59)),
    ],
)
def test_a_hold_waits_on_the_shelf_to_the_end_of_the_library_day_its_pickup_days_later(
    zone: ZoneInfo, ready: datetime, deadline: datetime
) -> None:
    hold = Hold.place(patron="users/p", book="books/b", pickup_branch="MAIN", pickup_days=7, now=ready)
    assert hold.take_shelf_copy("books/b/copies/c", now=ready, zone=zone)
    assert hold.expire_at == deadline
    morning_of_the_last_day = local(zone, *deadline.astimezone(zone).timetuple()[:3], 10)
    assert not hold.expire(now=morning_of_the_last_day) and not hold.expire(now=deadline)
    assert hold.expire(now=deadline + SECOND)


HARD_DUE = datetime(2027, 5, 11, tzinfo=UTC)
""""11 May" typed as midnight UTC: 20:00 on 10 May in Santiago (UTC-4 then)."""


def test_a_hard_due_date_ends_with_the_library_day_it_falls_on() -> None:
    terms = RuleTerms("ADULT", "*", hard_due_at=HARD_DUE)
    issued = datetime(2027, 5, 10, 14, 0, tzinfo=UTC)  # 10:00 local
    end_of_10_may = datetime(2027, 5, 11, 3, 59, 59, tzinfo=UTC)
    assert terms.hard_due_end(SANTIAGO) == end_of_10_may
    assert terms.due_at(issued, 14, SANTIAGO) == end_of_10_may
    in_the_evening = datetime(2027, 5, 11, 0, 30, tzinfo=UTC)  # 20:30 on 10 May, the same library day
    terms.ensure_lends_at(in_the_evening, SANTIAGO)
    with pytest.raises(FailedPrecondition) as refused:
        terms.ensure_lends_at(end_of_10_may, SANTIAGO)
    assert refused.value.reason == "HARD_DUE_DATE_PASSED"
    # A date meant in local terms, given as such, is that local day.
    local_date = RuleTerms("ADULT", "*", hard_due_at=datetime(2027, 5, 11, tzinfo=SANTIAGO))
    assert local_date.hard_due_end(SANTIAGO) == datetime(2027, 5, 12, 3, 59, 59, tzinfo=UTC)


def test_a_loan_capped_by_a_hard_due_date_is_not_overdue_that_evening_nor_renewable() -> None:
    issued = datetime(2027, 5, 10, 14, 0, tzinfo=UTC)
    loan = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None,
                      issued_by="", now=issued)  # fmt: skip
    rule = CirculationRule.create(RuleTerms("ADULT", "*", hard_due_at=HARD_DUE, max_renewals=2), now=issued)
    loan.activate(COPY, rule=rule, book_title="Time Book", now=issued, zone=SANTIAGO)
    in_the_evening = datetime(2027, 5, 11, 0, 30, tzinfo=UTC)
    assert (
        not loan.is_overdue(in_the_evening) and loan.overdue_days(in_the_evening, SANTIAGO, closed=NO_CLOSED_DAYS) == 0
    )
    assert not loan.renewable(SANTIAGO)
    loan.remind(in_the_evening, ReminderSchedule.of_days((-0.5, 1)), SANTIAGO, closed=NO_CLOSED_DAYS)
    (due_soon,) = (event for event in loan.events if isinstance(event, LoanDueSoon))
    assert due_soon.renewable is False
