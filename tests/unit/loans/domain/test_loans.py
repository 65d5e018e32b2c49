"""The loan aggregate: due dates, renewals, overdue days after grace, returns, announcements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.loan_events import LoanDueSoon, LoanIssued, LoanOverdue, LoanRenewed, LoanReturned
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan, visible
from services.loans.domain.reminders import ReminderSchedule, reminder_event_id
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
COPY = CopyInfo(name="books/b/copies/c", book="books/b", barcode="B1", item_type="BOOK", status="ON_LOAN")


def end_of(days: int) -> datetime:
    """The end of the (UTC) day `days` days after NOW's: when a loan of that many days issued at NOW is due."""
    return datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC) + days * DAY


def active_loan(*, now: datetime = NOW, zone: tzinfo = UTC, **terms: object) -> Loan:
    loan = Loan.begin(
        patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None, issued_by="", now=now
    )
    rule = CirculationRule.create(RuleTerms("*", "*", **terms), now=now)  # type: ignore[arg-type]
    loan.activate(COPY, rule=rule, book_title="Dead Souls", now=now, zone=zone)
    return loan


def test_an_issued_loan_is_due_at_the_end_of_the_last_day_of_the_loan_period_and_announced() -> None:
    loan = active_loan(loan_period_days=10)
    assert loan.status == LoanStatus.ACTIVE
    assert loan.due_at == end_of(10)
    assert [type(e) for e in loan.events] == [LoanIssued]


@pytest.mark.parametrize(
    ("zone", "issued", "due"),
    [
        # 01:30 on the 22nd in Moscow (UTC+3): fourteen days from the 22nd there.
        ("Europe/Moscow", datetime(2026, 11, 21, 22, 30, tzinfo=UTC), datetime(2026, 12, 6, 20, 59, 59, tzinfo=UTC)),
        # Issued in summer time (EDT, UTC-4), due after it ended (EST, UTC-5): still 23:59:59 there.
        ("America/New_York", datetime(2026, 10, 25, 18, 5, tzinfo=UTC), datetime(2026, 11, 9, 4, 59, 59, tzinfo=UTC)),
    ],
)
def test_a_daily_loan_is_due_at_the_end_of_its_last_day_in_the_library_time_zone(
    zone: str, issued: datetime, due: datetime
) -> None:
    library = ZoneInfo(zone)
    loan = active_loan(now=issued, zone=library, loan_period_days=14)
    assert loan.due_at == due
    assert not loan.is_overdue(due) and loan.days_past_due(due, library) == 0  # any hour of the due day is in time
    late = due + timedelta(seconds=1)
    assert loan.is_overdue(late) and loan.days_past_due(late, library) == 1


def test_renewal_is_due_at_the_end_of_a_day_in_the_library_time_zone() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    loan = active_loan(now=datetime(2026, 11, 21, 22, 30, tzinfo=UTC), zone=moscow, loan_period_days=14)
    loan.renew(now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), others_waiting=False, zone=moscow)
    assert loan.due_at == datetime(2026, 12, 20, 20, 59, 59, tzinfo=UTC)  # 14 more days from the due day


def test_the_hard_due_date_caps_an_issue_at_the_end_of_its_day() -> None:
    assert active_loan(loan_period_days=30, hard_due_at=NOW + 3 * DAY).due_at == end_of(3)


def test_a_loan_needs_a_book_or_a_barcode() -> None:
    with pytest.raises(InvalidArgument):
        Loan.begin(patron="users/p", book="", barcode="", requested_copy="", hold="", request_id=None, issued_by="",
                   now=NOW)  # fmt: skip


def test_overdue_days_count_whole_days_after_grace() -> None:
    loan = active_loan(loan_period_days=1, grace_days=2, fine_per_day=Decimal("0.50"), fine_cap=Decimal("2.00"))
    due = loan.due_at
    assert due is not None
    assert not loan.is_overdue(due) and loan.days_past_due(due, UTC) == 0
    assert loan.is_overdue(due + timedelta(hours=1)) and loan.days_past_due(due + timedelta(hours=1), UTC) == 1
    assert loan.overdue_days(due + timedelta(hours=1), UTC, closed=NO_CLOSED_DAYS) == 0  # within the grace days
    assert loan.overdue_days(due + 3 * DAY, UTC, closed=NO_CLOSED_DAYS) == 1
    assert loan.overdue_fine(due + 3 * DAY, UTC, closed=NO_CLOSED_DAYS) == Decimal("0.50")
    assert loan.overdue_fine(due + 30 * DAY, UTC, closed=NO_CLOSED_DAYS) == Decimal("2.00")


def test_renewal_extends_from_the_due_date_and_counts() -> None:
    loan = active_loan(loan_period_days=14, renewal_period_days=7, max_renewals=1)
    later = NOW + 10 * DAY
    loan.renew(now=later, others_waiting=False, zone=UTC)
    assert loan.due_at == end_of(21) and loan.renewal_count == 1
    assert isinstance(loan.events[-1], LoanRenewed) and loan.events[-1].previous_due_at == end_of(14)
    with pytest.raises(FailedPrecondition) as refused:
        loan.renew(now=later, others_waiting=False, zone=UTC)
    assert refused.value.reason == "RENEWAL_LIMIT_REACHED"


def test_a_renewal_on_the_day_of_issue_gains_its_whole_period() -> None:
    """Counted from now, it moved the due date by seconds and spent a renewal all the same."""
    loan = active_loan(loan_period_days=14, renewal_period_days=14)
    loan.renew(now=NOW + timedelta(minutes=1), others_waiting=False, zone=UTC)
    assert loan.due_at == end_of(28)


def test_a_renewal_late_within_its_grace_days_counts_from_the_due_date_not_from_now() -> None:
    """From max(now, due) it gained the late day on top of its period, though the API says from the due date."""
    loan = active_loan(loan_period_days=14, renewal_period_days=14, grace_days=1)
    loan.renew(now=end_of(15) - timedelta(hours=2), others_waiting=False, zone=UTC)  # a day late, in grace
    assert loan.due_at == end_of(28)


def test_a_renewal_whose_new_due_date_would_be_past_counts_from_now() -> None:
    loan = active_loan(loan_period_days=14, renewal_period_days=2, grace_days=3)
    loan.renew(now=end_of(17) - timedelta(hours=2), others_waiting=False, zone=UTC)  # 3 days late, in grace
    assert loan.due_at == end_of(19)  # from the due date it would be end_of(16), already past: from today


@pytest.mark.parametrize(
    ("moment", "others_waiting", "reason"),
    [
        (NOW + 20 * DAY, False, "LOAN_OVERDUE"),
        (NOW + 1 * DAY, True, "HOLDS_WAITING"),
    ],
)
def test_renewal_is_refused_when_overdue_or_others_wait(moment: datetime, others_waiting: bool, reason: str) -> None:
    loan = active_loan(loan_period_days=14)
    with pytest.raises(FailedPrecondition) as refused:
        loan.renew(now=moment, others_waiting=others_waiting, zone=UTC)
    assert refused.value.reason == reason


def test_renewal_is_refused_at_the_hard_due_date() -> None:
    loan = active_loan(loan_period_days=14, hard_due_at=NOW + 14 * DAY)
    with pytest.raises(FailedPrecondition) as refused:
        loan.renew(now=NOW + DAY, others_waiting=False, zone=UTC)
    assert refused.value.reason == "HARD_DUE_DATE_REACHED"


def test_returning_twice_is_refused() -> None:
    loan = active_loan()
    loan.return_copy(now=NOW + DAY, fine=None, zone=UTC, closed=NO_CLOSED_DAYS)
    assert isinstance(loan.events[-1], LoanReturned)
    with pytest.raises(FailedPrecondition) as twice:
        loan.return_copy(now=NOW + DAY, fine=None, zone=UTC, closed=NO_CLOSED_DAYS)
    assert twice.value.reason == "LOAN_ALREADY_RETURNED"


SCHEDULE = ReminderSchedule.of_days((-3, -0.5, 1, 8, 15))


def reminders(loan: Loan) -> list[tuple[str, int]]:
    return [(type(e).__name__, e.step) for e in loan.events if isinstance(e, LoanDueSoon | LoanOverdue)]


def test_each_step_of_the_reminder_schedule_is_announced_once() -> None:
    loan = active_loan(loan_period_days=10)
    due = loan.due_at
    assert due is not None
    looks = [due - 4 * DAY, due - 3 * DAY, due - 2 * DAY, due - DAY / 2, due, due + DAY, due + DAY, due + 8 * DAY,
             due + 15 * DAY]  # fmt: skip
    for now in looks:
        loan.remind(now, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    assert reminders(loan) == [("LoanDueSoon", 1), ("LoanDueSoon", 2), ("LoanOverdue", 3), ("LoanOverdue", 4),
                               ("LoanOverdue", 5)]  # fmt: skip
    assert loan.next_reminder_at is None
    assert not loan.remind(due + 30 * DAY, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)


def test_a_reminder_says_when_the_loan_is_looked_at_next() -> None:
    loan = active_loan(loan_period_days=10)
    due = loan.due_at
    assert due is not None and loan.next_reminder_at == NOW  # the pass works the schedule out at once
    assert loan.remind(NOW, SCHEDULE, UTC, closed=NO_CLOSED_DAYS) and reminders(loan) == []
    assert loan.next_reminder_at == due - 3 * DAY


def test_steps_missed_while_nobody_looked_are_not_announced_late() -> None:
    loan = active_loan(loan_period_days=10)
    assert loan.due_at is not None
    loan.remind(loan.due_at + 9 * DAY, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    assert reminders(loan) == [("LoanOverdue", 4)]
    assert [e.overdue_days for e in loan.events if isinstance(e, LoanOverdue)] == [9]


def test_a_loan_lent_for_less_than_the_first_steps_time_gets_one_due_soon_reminder_before_its_due_time() -> None:
    """Lent two days before its due date, it was told "due" at once (the three-days step had come) and again at
    the due time, when it was already overdue: twice the same mail, the second one false."""
    loan = active_loan(hard_due_at=NOW + 2 * DAY)
    due = loan.due_at
    assert due == end_of(2)
    for now in (NOW, NOW + DAY, due - DAY / 2, due - DAY / 4, due, due + DAY):
        loan.remind(now, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    assert reminders(loan) == [("LoanDueSoon", 2), ("LoanOverdue", 3)]
    (due_soon,) = (e for e in loan.events if isinstance(e, LoanDueSoon))
    assert due_soon.occurred_at == due - DAY / 2 < due


@pytest.mark.parametrize(
    ("terms", "renewed", "renewable"),
    [
        ({"loan_period_days": 10, "max_renewals": 2}, 0, True),
        ({"loan_period_days": 10, "max_renewals": 1}, 1, False),  # renewals used up
        ({"max_renewals": 2, "hard_due_at": NOW + 2 * DAY}, 0, False),  # due at the hard due date (finding A11)
    ],
)
def test_a_due_soon_reminder_says_whether_a_renewal_could_extend_the_loan(terms, renewed, renewable) -> None:
    loan = active_loan(**terms)
    loan.renewal_count = renewed
    assert loan.due_at is not None
    loan.remind(loan.due_at - DAY / 2, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    (due_soon,) = (e for e in loan.events if isinstance(e, LoanDueSoon))
    assert due_soon.renewable is renewable


def test_a_due_soon_step_that_comes_to_light_only_after_the_due_time_is_not_announced() -> None:
    loan = active_loan(loan_period_days=10)
    due = loan.due_at
    assert due is not None
    # step 1; then nobody looked until past the due time
    loan.remind(due - 3 * DAY, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    loan.remind(due + timedelta(seconds=30), SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    assert reminders(loan) == [("LoanDueSoon", 1)] and loan.next_reminder_at == due + DAY
    loan.remind(due + DAY, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    assert reminders(loan) == [("LoanDueSoon", 1), ("LoanOverdue", 3)]


def test_a_schedule_step_at_the_due_time_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="at the due time"):
        ReminderSchedule.of_days((-3, 0, 1))


def test_a_loan_due_in_the_first_days_of_year_1_is_announced_overdue_not_an_overflow() -> None:
    """Lent under a hard due date of 0001-01-03 before hard due dates were checked (the reconciler died here)."""
    loan = active_loan(loan_period_days=10)
    loan.due_at = datetime(1, 1, 3, tzinfo=UTC)
    assert loan.remind(NOW, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    assert reminders(loan) == [("LoanOverdue", 5)] and loan.next_reminder_at is None


def test_a_renewal_starts_the_schedule_again_with_new_event_ids() -> None:
    loan = active_loan(loan_period_days=10)
    assert loan.due_at is not None
    loan.remind(loan.due_at - 3 * DAY, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    loan.renew(now=loan.due_at - 2 * DAY, others_waiting=False, zone=UTC)
    loan.remind(loan.due_at - 3 * DAY, SCHEDULE, UTC, closed=NO_CLOSED_DAYS)
    first, again = (e for e in loan.events if isinstance(e, LoanDueSoon))
    assert (first.step, again.step) == (1, 1) and first.event_id != again.event_id
    assert again.event_id == reminder_event_id(loan.id, 1, 1)  # the same announcement, the same id


def test_clients_never_see_a_sagas_pending_or_failed_record() -> None:
    pending = Loan.begin(patron="users/p", book="books/b", barcode="", requested_copy="", hold="", request_id=None,
                         issued_by="", now=NOW)  # fmt: skip
    with pytest.raises(NotFound):
        visible(pending)
    pending.fail("NO_COPY_AVAILABLE", now=NOW, copy_out=False)
    with pytest.raises(NotFound):
        visible(pending)
    loan = active_loan()
    assert visible(loan) is loan
    assert loan.name == f"loans/{loan.id}"
