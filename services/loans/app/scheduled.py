"""The scheduler's reconciliation pass, by one loans process at a time.

Every loans process runs the scheduler, each minute. The steps of a pass are safe run side by side (each
claims its rows), but side by side they only repeat each other's reads: N processes made N times the pass's
work on loans' database and on the catalog. The pass is led, as reminders are (`LoansUnitOfWork.lead`): a
transaction-scoped advisory lock held for the pass, so a process that dies hands the lead on at once; a process
that finds it taken skips its turn. (ReconcileCirculation, an admin's, runs whatever the scheduler does.)
"""

from __future__ import annotations

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.reconciling import ReconcileCirculation, ReconcilePolicy, ReconcileReport, reconcile_circulation
from services.support.runtime.clock import Clock

RECONCILIATION = "reconciliation"
"""The task a scheduled pass leads."""


async def scheduled_pass(
    *,
    leader: LoansUnitOfWork,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    currency: str,
    policy: ReconcilePolicy,
) -> ReconcileReport | None:
    """A pass when no other process is running one (its report), else None. `leader`: a unit of work of its
    own, whose transaction holds the lead while `uow` does the pass's work."""
    async with leader:
        if not await leader.lead(RECONCILIATION):
            return None
        return await reconcile_circulation(
            ReconcileCirculation(), uow=uow, clock=clock, catalog=catalog, currency=currency, policy=policy
        )
