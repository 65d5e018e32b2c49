"""Reminders by schedule step, against real Postgres: each step of each loan announced once, however many
loans processes run the pass at once and however often they restart (issue 11, the loans side)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from loans_world import DESK, World
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from athenaeum.loans.v1 import events_pb2
from services.loans.api import events
from services.loans.app.issuing import IssueLoan
from services.loans.app.reconciling import ReconcilePolicy, ReconcileReport, send_reminders
from services.loans.app.renewing import RenewLoan
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.loans.domain.reminders import ReminderSchedule
from services.support.runtime.engine import session_factory
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
SCHEDULE = ReminderSchedule.of_days((-3, -0.5, 1, 8, 15))
PROCESSES = 3


@pytest.fixture
async def engines(world: World) -> AsyncIterator[list[AsyncEngine]]:
    """One engine per loans process, all on the world's database."""
    url = world.engine.url.render_as_string(hide_password=False)
    opened = [create_async_engine(url, pool_size=5) for _ in range(PROCESSES)]
    yield opened
    for engine in opened:
        await engine.dispose()


async def one_pass(engine: AsyncEngine, world: World) -> int:
    """A reminder pass as one loans process makes it (a fresh unit of work over its own pool)."""
    report = ReconcileReport()
    uow = SqlLoansUnitOfWork(session_factory(engine), encode=events.encoder(UTC))
    policy = ReconcilePolicy(reminders=SCHEDULE)
    await send_reminders(report, uow=uow, clock=world.clock, policy=policy, dry_run=False)
    return report.reminders_sent


def move_to(world: World, moment: datetime) -> None:
    world.clock.advance(moment - world.clock.now())


async def announced(world: World) -> Counter[tuple[str, str, int]]:
    """(kind, loan, step) of every reminder in the outbox."""
    async with world.engine.connect() as connection:
        rows = (await connection.execute(sa.select(OUTBOX.c.event_type, OUTBOX.c.payload))).all()
    found: Counter[tuple[str, str, int]] = Counter()
    for row in rows:
        kind = row.event_type.rsplit(".", 1)[-1]
        if kind in ("LoanDueSoon", "LoanOverdue"):
            message = getattr(events_pb2, kind).FromString(row.payload)
            found[(kind, message.loan.name, message.step)] += 1
    return found


async def test_every_step_is_announced_once_by_processes_racing_and_restarting(
    world: World, engines: list[AsyncEngine]
) -> None:
    await world.set_default_rule(loan_period_days=10)
    book, _ = world.catalog.add_book(copies=4)
    loans = [await world.issue(IssueLoan(f"users/p{i}", book=book, actor=DESK)) for i in range(4)]
    for moment in (-10, -3, -3, -0.5, 1, 1, 8, 15, 30):  # days from the due time; twice: a restart re-runs it
        move_to(world, loans[0].due_at + moment * DAY)  # type: ignore[operator]
        await asyncio.gather(*(one_pass(engine, world) for engine in engines))
    seen = await announced(world)
    expected = {("LoanDueSoon", 1), ("LoanDueSoon", 2), ("LoanOverdue", 3), ("LoanOverdue", 4), ("LoanOverdue", 5)}
    for loan in loans:
        assert {(kind, step) for kind, name, step in seen if name == loan.name} == expected
    assert set(seen.values()) == {1}


async def test_a_pass_another_process_leads_is_skipped_not_repeated(world: World, engines: list[AsyncEngine]) -> None:
    await world.set_default_rule(loan_period_days=10)
    book, _ = world.catalog.add_book()
    loan = await world.issue(IssueLoan("users/p", book=book, actor=DESK))
    move_to(world, loan.due_at - 3 * DAY)  # type: ignore[operator]
    leader = SqlLoansUnitOfWork(session_factory(engines[0]), encode=events.encoder(UTC))
    async with leader:
        assert await leader.lead("loan reminders")
        assert await one_pass(engines[1], world) == 0  # the leader holds the pass
    assert await one_pass(engines[1], world) == 1


async def test_an_announcement_made_again_is_dropped_by_the_outbox(world: World) -> None:
    """A step's event id is derived from the loan and the step: the same announcement twice (e.g. after a
    restore of the loans table from a backup) is one outbox row, and the transaction is not undone."""
    await world.set_default_rule(loan_period_days=10)
    book, _ = world.catalog.add_book()
    loan = await world.issue(IssueLoan("users/p", book=book, actor=DESK))
    move_to(world, loan.due_at - 3 * DAY)  # type: ignore[operator]
    assert await one_pass(world.engine, world) == 1
    async with world.engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE loans SET reminders_sent = 0, next_reminder_at = :then"), {"then": world.clock.now()}
        )
    assert await one_pass(world.engine, world) == 1
    assert list((await announced(world)).values()) == [1]


async def test_a_renewal_starts_the_schedule_again(world: World) -> None:
    await world.set_default_rule(loan_period_days=10, max_renewals=2, renewal_period_days=10)
    book, _ = world.catalog.add_book()
    loan = await world.issue(IssueLoan("users/p", book=book, actor=DESK))
    move_to(world, loan.due_at - 3 * DAY)  # type: ignore[operator]
    await one_pass(world.engine, world)
    renewed = await world.renew(RenewLoan(loan.id, actor=DESK))
    move_to(world, renewed.due_at - 3 * DAY)  # type: ignore[operator]
    await one_pass(world.engine, world)
    assert sorted((await announced(world)).elements()) == [("LoanDueSoon", loan.name, 1)] * 2
