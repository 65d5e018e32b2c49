"""Fines skip the days the library is closed, through the use cases (in-memory database): the return, the
reconciler's accrual, a declaration of loss, a renewal's overdue check and the loans' answers."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest

from services.loans.api.convert import loan_to_proto
from services.loans.app.calendar import CreateClosedDay, create_closed_day
from services.loans.app.issuing import IssueLoan
from services.loans.app.losing import DeclareLoanLost
from services.loans.app.renewing import RenewLoan
from services.loans.app.returning import ReturnLoan
from services.loans.app.viewing import closed_days_for_answers
from services.loans.domain.calendar import NO_CLOSED_DAYS
from services.loans.domain.fines import FineKind
from services.loans.domain.loans import Loan
from services.support.runtime.errors import FailedPrecondition

from ..desk import ADMIN, DESK, Desk
from ..fakes import FakeLoansDatabase

# NOW is Monday 2 November 2026, 09:00 (UTC, the desk's time zone): an 11-day loan is due on Friday the 13th.
SATURDAY, SUNDAY, MONDAY = date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 16)
DAY = timedelta(days=1)


async def close(desk: Desk, *days: date) -> None:
    for day in days:
        await create_closed_day(CreateClosedDay(day, "Closed", actor=ADMIN), uow=desk.uow(), clock=desk.clock, zone=UTC)


async def due_friday(db: FakeLoansDatabase, desk: Desk, fine_per_day: str = "0.25") -> Loan:
    db.set_default_rule(loan_period_days=11, fine_per_day=Decimal(fine_per_day), renewal_period_days=7)
    book, _ = desk.catalog.add_book("Shut Doors")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    await close(desk, SATURDAY, SUNDAY)
    desk.clock.advance(14 * DAY)  # Monday the 16th, 09:00
    return loan


def overdue_fine_of(db: FakeLoansDatabase, loan: Loan) -> Decimal:
    (fine,) = [f for f in db.fines.values() if f.loan == loan.name and f.kind == FineKind.OVERDUE]
    return fine.amount


async def test_a_return_on_monday_after_a_closed_weekend_is_fined_for_one_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan = await due_friday(db, desk)
    returned = await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert (returned.returned_overdue_days, overdue_fine_of(db, loan)) == (1, Decimal("0.25"))
    await close(desk, MONDAY)  # closing a day since does not rewrite the count made at the return
    assert loan_to_proto(returned, now=desk.clock.now(), zone=UTC, closed=frozenset({MONDAY})).overdue_days == 1


async def test_a_return_with_no_fine_to_charge_keeps_the_open_days_it_was_late(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan = await due_friday(db, desk, fine_per_day="0")  # the close of one write, no fine row
    returned = await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert db.loans[loan.id].returned_overdue_days == returned.returned_overdue_days == 1


async def test_the_reconciler_accrues_open_days_only(db: FakeLoansDatabase, desk: Desk) -> None:
    loan = await due_friday(db, desk)
    await desk.reconcile()
    assert overdue_fine_of(db, loan) == Decimal("0.25")


async def test_a_loan_declared_lost_freezes_a_fine_of_its_open_days(db: FakeLoansDatabase, desk: Desk) -> None:
    loan = await due_friday(db, desk)
    await desk.declare_lost(DeclareLoanLost(loan.id, amount="10.00", reason="gone", actor=DESK))
    desk.clock.advance(10 * DAY)
    await desk.reconcile()
    assert overdue_fine_of(db, loan) == Decimal("0.25")


async def test_a_loan_late_only_over_closed_days_may_be_renewed(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(loan_period_days=11, renewal_period_days=7, max_renewals=1)
    first, second = [
        await desk.issue(IssueLoan("users/p1", book=desk.catalog.add_book(t)[0], actor=DESK)) for t in "AB"
    ]
    await close(desk, SATURDAY, SUNDAY)
    desk.clock.advance(13 * DAY)  # Sunday: no open day missed
    assert (await desk.renew(RenewLoan(first.id, actor=DESK))).renewal_count == 1
    desk.clock.advance(DAY)  # Monday: one missed
    with pytest.raises(FailedPrecondition) as refused:
        await desk.renew(RenewLoan(second.id, actor=DESK))
    assert refused.value.reason == "LOAN_OVERDUE"


async def test_the_answers_count_an_active_loans_days_on_the_calendar_as_it_is_now(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan = await due_friday(db, desk)
    now = desk.clock.now()
    closed = await closed_days_for_answers([loan], uow=desk.uow(), now=now)
    assert loan_to_proto(loan, now=now, zone=UTC, closed=closed).overdue_days == 1
    in_time = await closed_days_for_answers([loan], uow=desk.uow(), now=now - 4 * DAY)
    assert in_time == NO_CLOSED_DAYS  # nobody late: the calendar is not read
