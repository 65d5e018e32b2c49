"""The scheduler's reconciliation pass against real Postgres: one loans process at a time (the others skip their
turn while it runs), and the fines of every overdue loan read and grown in one transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from loans_world import CURRENCY, DESK, World

from services.loans.app.issuing import IssueLoan
from services.loans.app.reconciling import ReconcileReport
from services.loans.app.returning import ReturnLoan
from services.loans.app.scheduled import RECONCILIATION, scheduled_pass
from services.loans.data.tables import fines

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


async def _scheduled(world: World) -> ReconcileReport | None:
    return await scheduled_pass(
        leader=world.uow(), uow=world.uow(), clock=world.clock, catalog=world.catalog, currency=CURRENCY,
        policy=world.reconcile_policy,
    )  # fmt: skip


async def _owed(world: World) -> dict[str, Decimal]:
    async with world.engine.connect() as connection:
        return dict((await connection.execute(sa.select(fines.c.loan, fines.c.amount))).all())


async def test_a_scheduled_pass_waits_its_turn_while_another_process_reconciles_and_grows_every_fine(
    world: World,
) -> None:
    await world.set_default_rule(loan_period_days=3, fine_per_day=Decimal("0.50"), max_loans=50)
    book, _ = world.catalog.add_book(copies=5)
    loans = [await world.issue(IssueLoan(f"users/p{n}", book=book, actor=DESK)) for n in range(5)]
    world.clock.advance(5 * DAY)
    other_process = world.uow()
    async with other_process:
        assert await other_process.lead(RECONCILIATION)
        assert await _scheduled(world) is None
    assert await _owed(world) == {}
    report = await _scheduled(world)
    assert report is not None and (report.overdue_loans, report.fines_assessed) == (5, 5)
    assert await _owed(world) == {loan.name: Decimal("1.00") for loan in loans}
    world.clock.advance(DAY)
    report = await _scheduled(world)
    assert report is not None and (report.overdue_loans, report.fines_assessed) == (5, 5)
    assert await _owed(world) == {loan.name: Decimal("1.50") for loan in loans}
    report = await _scheduled(world)  # the same day: nothing grows
    assert report is not None and report.fines_assessed == 0


async def test_a_loan_moved_within_the_saga_timeout_is_no_drift_and_one_older_is(world: World, monkeypatch) -> None:
    """The reconciler's comparison reads when each loan last moved (made, issued, its return begun or done)."""
    _book, (copy, other) = world.catalog.add_book(copies=2)
    returned = await world.issue(IssueLoan("users/p1", barcode=world.catalog.barcode(other), actor=DESK))
    world.clock.advance(DAY)
    await world.return_loan(ReturnLoan(returned.id, actor=DESK))
    returned_at = world.clock.now()
    before = [copy_info for copy_info in world.catalog.copies.values() if copy_info.status != "AVAILABLE"]
    loan = await world.issue(IssueLoan("users/p2", barcode=world.catalog.barcode(copy), actor=DESK))

    async def stale() -> list:
        return before  # read before the issue: the copy is on the open shelf

    monkeypatch.setattr(world.catalog, "copies_in_circulation", stale)
    async with world.uow() as uow:
        moved = await uow.loans.moved_at([returned.name, loan.name])
    assert moved == {returned.name: returned_at, loan.name: world.clock.now()}
    assert (await world.reconcile()).discrepancies == []
    world.clock.advance(world.reconcile_policy.saga_timeout + timedelta(seconds=1))
    assert any(loan.name in line for line in (await world.reconcile()).discrepancies)
