"""The library's calendar through the use cases (in-memory database): admins close days; loans lent or renewed,
and holds put on the shelf, end on the next open day instead."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.loans.app.calendar import (
    CreateClosedDay,
    DeleteClosedDay,
    ListClosedDays,
    create_closed_day,
    delete_closed_day,
    list_closed_days,
)
from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.renewing import RenewLoan
from services.loans.domain.calendar import ClosedDayChanged
from services.loans.domain.hold_record import HoldStatus
from services.support.runtime.clock import end_of_day
from services.support.runtime.errors import AlreadyExists, NotFound, PermissionDenied

from ..desk import ADMIN, DESK, NOW, Desk
from ..fakes import FakeLoansDatabase

# NOW is Monday 2 November 2026 (UTC, the desk's time zone): a 14-day loan is due on Monday 16 November.
DUE = date(2026, 11, 16)


async def close(desk: Desk, *days: date) -> None:
    for day in days:
        await create_closed_day(CreateClosedDay(day, "Closed", actor=ADMIN), uow=desk.uow(), clock=desk.clock, zone=UTC)


async def test_a_loan_that_would_be_due_on_a_closed_day_is_due_at_the_end_of_the_next_open_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(loan_period_days=14)
    await close(desk, DUE, DUE + timedelta(days=1))
    book, _ = desk.catalog.add_book("Calendar")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert loan.due_at == end_of_day(DUE + timedelta(days=2), UTC)


async def test_a_renewal_that_would_end_on_a_closed_day_ends_on_the_next_open_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(loan_period_days=14, renewal_period_days=14, max_renewals=2)
    book, _ = desk.catalog.add_book("Calendar")
    loan = await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    assert loan.due_at == end_of_day(DUE, UTC)
    await close(desk, DUE + timedelta(days=14))
    renewed = await desk.renew(RenewLoan(loan.id, actor=DESK))
    assert renewed.due_at == end_of_day(DUE + timedelta(days=15), UTC)


async def test_a_ready_holds_pickup_deadline_on_a_closed_day_moves_to_the_next_open_day(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(hold_pickup_days=7)
    await close(desk, date(2026, 11, 9))
    book, (copy,) = desk.catalog.add_book()
    await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    hold = await desk.receive(copy)
    assert hold.status == HoldStatus.READY and hold.expire_at == end_of_day(date(2026, 11, 10), UTC)


async def test_closing_a_closed_day_again_is_already_exists(desk: Desk) -> None:
    await close(desk, DUE)
    with pytest.raises(AlreadyExists) as refused:
        await close(desk, DUE)
    assert refused.value.reason == "CLOSED_DAY_EXISTS"


async def test_a_retried_creation_with_its_request_id_returns_the_first_answer(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    command = CreateClosedDay(DUE, "Staff day", request_id=uuid.uuid4(), actor=ADMIN)
    first = await create_closed_day(command, uow=desk.uow(), clock=desk.clock, zone=UTC)
    again = await create_closed_day(command, uow=desk.uow(), clock=desk.clock, zone=UTC)
    assert again.name == first.name == "closedDays/2026-11-16" and again.reason == "Staff day"


async def test_a_librarian_may_not_close_a_day(desk: Desk) -> None:
    with pytest.raises(PermissionDenied):
        await create_closed_day(CreateClosedDay(DUE, actor=DESK), uow=desk.uow(), clock=desk.clock, zone=UTC)
    with pytest.raises(PermissionDenied):
        await delete_closed_day(DeleteClosedDay(DUE, actor=DESK), uow=desk.uow(), clock=desk.clock)


async def test_the_closed_days_are_listed_earliest_first_within_the_bounds_and_paged(desk: Desk) -> None:
    await close(desk, date(2027, 1, 1), date(2026, 12, 25), date(2026, 12, 26), date(2027, 5, 1))
    first = await list_closed_days(
        ListClosedDays(start=date(2026, 12, 1), end=date(2027, 1, 31), page_size=2), uow=desk.uow()
    )
    assert [c.day for c in first.items] == [date(2026, 12, 25), date(2026, 12, 26)] and first.total_size == 3
    rest = await list_closed_days(
        ListClosedDays(start=date(2026, 12, 1), end=date(2027, 1, 31), page_size=2, page_token=first.next_page_token),
        uow=desk.uow(),
    )
    assert [c.day for c in rest.items] == [date(2027, 1, 1)] and rest.next_page_token == ""


async def test_opening_a_day_again_records_the_change_and_lends_to_it_again(db: FakeLoansDatabase, desk: Desk) -> None:
    db.set_default_rule(loan_period_days=14)
    await close(desk, DUE)
    await delete_closed_day(DeleteClosedDay(DUE, actor=ADMIN), uow=desk.uow(), clock=desk.clock)
    changes = [(e.closed_day.day, e.deleted) for e in db.events if isinstance(e, ClosedDayChanged)]
    assert changes == [(DUE, False), (DUE, True)]
    book, _ = desk.catalog.add_book("Calendar")
    assert (await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))).due_at == end_of_day(DUE, UTC)
    with pytest.raises(NotFound):
        await delete_closed_day(DeleteClosedDay(DUE, actor=ADMIN), uow=desk.uow(), clock=desk.clock)


def test_now_is_the_monday_the_dates_above_count_from() -> None:
    assert datetime(2026, 11, 2, 9, 0, tzinfo=UTC) == NOW
