"""Returns, fines, holds and hard due dates in a library whose clocks change (the use cases as the desk calls
them, over the in-memory database): its days are dates in ATHENAEUM_LIBRARY_TIME_ZONE, however long."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_events import LoanReturned
from services.loans.domain.loans import Loan

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase


def library_in(desk: Desk, zone: str, now: datetime) -> None:
    desk.policy = replace(desk.policy, time_zone=ZoneInfo(zone))
    set_clock(desk, now)


def set_clock(desk: Desk, now: datetime) -> None:
    desk.clock.advance(now - desk.clock.now())


async def lend(desk: Desk, patron: str = "users/p1") -> Loan:
    book, _ = desk.catalog.add_book("Time Book")
    return await desk.issue(IssueLoan(patron, book=book, actor=DESK))


def returned_days(db: FakeLoansDatabase) -> list[int]:
    return [event.overdue_days for event in db.events if isinstance(event, LoanReturned)]


async def test_a_return_late_on_the_first_day_after_the_clocks_went_back_is_fined_one_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """The tester's Auckland run: due Saturday 3 April, back at 23:29 on Sunday (summer time ended at 03:00 that
    morning): 24-hour blocks charged two days."""
    db.set_default_rule(loan_period_days=14, fine_per_day=Decimal("0.10"))
    library_in(desk, "Pacific/Auckland", datetime(2027, 3, 19, 23, 0, tzinfo=UTC))  # Sat 20 Mar 12:00 NZDT
    loan = await lend(desk)
    assert loan.due_at == datetime(2027, 4, 3, 10, 59, 59, tzinfo=UTC)  # Sat 3 Apr 23:59:59 NZDT
    set_clock(desk, datetime(2027, 4, 4, 11, 29, tzinfo=UTC))  # Sun 4 Apr 23:29 NZST
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    (fine,) = db.fines.values()
    assert fine.amount == Decimal("0.10") and returned_days(db) == [1]


async def test_the_reconciler_grows_a_fine_by_library_days(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(loan_period_days=14, fine_per_day=Decimal("0.10"))
    library_in(desk, "America/New_York", datetime(2026, 10, 17, 16, 0, tzinfo=UTC))  # Sat 17 Oct, noon EDT
    loan = await lend(desk)
    assert loan.due_at == datetime(2026, 11, 1, 3, 59, 59, tzinfo=UTC)  # Sat 31 Oct 23:59:59 EDT
    set_clock(desk, datetime(2026, 11, 21, 4, 30, tzinfo=UTC))  # Fri 20 Nov 23:30 EST: 20 days begun
    await desk.reconcile()
    (fine,) = db.fines.values()
    assert fine.amount == Decimal("2.00")


async def test_a_return_on_the_due_day_where_summer_time_ends_at_midnight_is_in_time(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Santiago: due at the first of Saturday's two 23:59:59, a return at 23:29 the second time round was fined."""
    db.set_default_rule(loan_period_days=14, fine_per_day=Decimal("0.10"))
    library_in(desk, "America/Santiago", datetime(2027, 3, 20, 15, 0, tzinfo=UTC))
    loan = await lend(desk)
    assert loan.due_at == datetime(2027, 4, 4, 3, 59, 59, tzinfo=UTC)  # Sat 3 Apr 23:59:59 -04
    set_clock(desk, datetime(2027, 4, 4, 3, 29, tzinfo=UTC))  # Sat 3 Apr 23:29 -04
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert db.fines == {} and returned_days(db) == [0]


async def test_a_copy_trapped_in_the_morning_waits_to_the_end_of_its_last_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Trapped at 07:29 in Santiago, it lapsed at 07:29 seven days later: the patron who came at 10:00 on the
    day the web said ("until 11 Apr") found it gone."""
    db.set_default_rule(hold_pickup_days=7)
    library_in(desk, "America/Santiago", datetime(2027, 4, 4, 11, 29, 50, tzinfo=UTC))
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    hold = await desk.receive(copy)  # brought to the hold shelf at once: the window starts now
    assert hold.status == HoldStatus.READY and hold.expire_at == datetime(2027, 4, 12, 3, 59, 59, tzinfo=UTC)
    set_clock(desk, datetime(2027, 4, 11, 14, 0, tzinfo=UTC))  # 10:00 on 11 April there
    assert (await desk.reconcile()).holds_expired == 0 and db.holds[hold.id].status == HoldStatus.READY
    set_clock(desk, datetime(2027, 4, 12, 4, 0, tzinfo=UTC))  # 00:00 on the 12th
    assert (await desk.reconcile()).holds_expired == 1 and db.holds[hold.id].status == HoldStatus.EXPIRED


async def test_a_hard_due_date_given_as_midnight_utc_lends_and_is_due_to_the_end_of_that_library_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """2027-05-11T00:00:00Z in Santiago is 20:00 on 10 May: loans were due then, fined half an hour later, and
    every issue under the rule refused for the rest of the evening."""
    db.set_default_rule(hard_due_at=datetime(2027, 5, 11, tzinfo=UTC), fine_per_day=Decimal("0.10"))
    library_in(desk, "America/Santiago", datetime(2027, 5, 10, 14, 0, tzinfo=UTC))  # 10:00 local
    first = await lend(desk)
    assert first.due_at == datetime(2027, 5, 11, 3, 59, 59, tzinfo=UTC)  # 10 May 23:59:59 -04
    set_clock(desk, datetime(2027, 5, 11, 0, 30, tzinfo=UTC))  # 20:30 on 10 May
    second = await lend(desk, "users/p2")
    assert second.due_at == first.due_at
    await desk.return_loan(ReturnLoan(loan_id=first.id, actor=DESK))
    assert db.fines == {} and returned_days(db) == [0]
