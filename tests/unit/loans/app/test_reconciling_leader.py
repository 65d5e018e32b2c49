"""The scheduler's reconciliation pass runs in one loans process at a time: the others skip their turn while it
runs (each pass in every process repeated the others' reads, on loans' database and on the catalog)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.loans.app.issuing import IssueLoan
from services.loans.app.reconciling import ReconcileReport
from services.loans.app.scheduled import RECONCILIATION, scheduled_pass

from ..desk import CURRENCY, DESK, Desk
from ..fakes import FakeLoansDatabase


async def test_a_scheduled_pass_is_skipped_while_another_process_is_reconciling(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(loan_period_days=3, fine_per_day=Decimal("1.00"))
    book, _ = desk.catalog.add_book()
    await desk.issue(IssueLoan("users/p1", book=book, actor=DESK))
    desk.clock.advance(timedelta(days=5))

    async def scheduled() -> ReconcileReport | None:
        return await scheduled_pass(
            leader=desk.uow(), uow=desk.uow(), clock=desk.clock, catalog=desk.catalog, currency=CURRENCY,
            policy=desk.reconcile_policy,
        )  # fmt: skip

    async with desk.uow() as other_process:
        assert await other_process.lead(RECONCILIATION)
        assert await scheduled() is None
        assert not db.fines  # nothing done
    report = await scheduled()
    assert report is not None and report.overdue_loans == 1
    assert len(db.fines) == 1
    assert RECONCILIATION not in db.leading  # handed on once the pass ended
