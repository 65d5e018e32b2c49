"""The reconciler's steps for the sagas a crash or an outage left unfinished (reconciling.py runs them): an issue
still PENDING past the saga timeout is marked FAILED and its copy checked back in (compensating.py); a return (or
declaration of loss) begun and never finished is closed, forgotten, ended LOST or closed as stale, by what the
catalog has of its copy.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING

from services.loans.app.compensating import compensate, find_copy_out_on
from services.loans.app.losing import finish_declaring_lost
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.returning import finish_begun_return
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.unrecorded import lent_again_before
from services.support.runtime.clock import Clock
from services.support.runtime.errors import Conflict, DependencyUnavailable, NotFound

if TYPE_CHECKING:  # the report and the policy are the reconciler's, which calls this module
    from services.loans.app.reconciling import ReconcilePolicy, ReconcileReport


async def settle_unfinished_issues(
    report: ReconcileReport,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    policy: ReconcilePolicy,
    dry_run: bool,
) -> None:
    now = clock.now()
    async with uow:
        unsettled = await uow.loans.unsettled(pending_before=now - policy.saga_timeout)
        for loan in unsettled:
            if loan.status == LoanStatus.PENDING:
                loan.fail("ISSUE_ABANDONED", now=now, copy_out=True)
                await uow.loans.save(loan)
        if not dry_run:
            await uow.commit()
    for loan in unsettled:
        report.discrepancies.append(f"{loan.name}: the issue did not finish; its copy is put back")
        if dry_run:
            continue
        try:
            copy = await find_copy_out_on(loan, catalog=catalog)
        except DependencyUnavailable:
            continue
        except NotFound:
            copy = ""
        if await compensate(loan.id, copy, uow=uow, clock=clock, catalog=catalog):
            report.issues_settled += 1


async def settle_unfinished_returns(
    report: ReconcileReport,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    currency: str,
    policy: ReconcilePolicy,
    dry_run: bool,
) -> None:
    """Returns begun and never finished: closed when the catalog has the copy back (a copy it put on the hold
    shelf is given to its hold by the comparison later in the pass), forgotten when it still has it out."""
    now = clock.now()
    async with uow.reading():
        begun = await uow.loans.returns_begun(before=now - policy.saga_timeout)
    for loan in begun:
        report.discrepancies.append(f"{loan.name}: the return did not finish")
        if dry_run:
            continue
        try:
            copy: CopyInfo | None = await catalog.get_copy(loan.copy)
        except DependencyUnavailable:
            continue
        except NotFound:
            copy = None
        with contextlib.suppress(Conflict):  # another process settled it first
            report.returns_settled += await _settle_return(
                loan, copy, uow=uow, clock=clock, currency=currency, zone=policy.time_zone, margin=policy.saga_timeout
            )


async def _settle_return(
    loan: Loan,
    copy: CopyInfo | None,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    currency: str,
    zone: tzinfo,
    margin: timedelta,
) -> bool:
    """Forget the return (or declaration of loss) when the catalog has the copy out on the loan still; end a
    declaration LOST when the catalog has the copy LOST on the loan; close it as stale (no fine) when
    the catalog had it out on another loan before the return began (less `margin`, for the services' clocks: a
    loan restored from a backup, its return noted by a desk that stopped there); else finish it. False when the
    loan changed since it was read (settled by another process, or returned again)."""
    async with uow:
        current = await uow.loans.get(loan.id, for_update=True)
        begun_at = current.return_started_at
        if current.status != LoanStatus.ACTIVE or begun_at is None or begun_at != loan.return_started_at:
            return False
        if copy is not None and copy.current_loan == loan.name and copy.status == "ON_LOAN":
            current.abandon_return(clock.now())
            await uow.loans.save(current)
        elif copy is not None and lent_again_before(copy, current, begun_at - margin):
            current.close_as_stale(clock.now())
            await uow.loans.save(current)
        elif current.being_declared_lost and copy is not None and copy.current_loan == loan.name:
            await finish_declaring_lost(current, now=begun_at, actor="system", uow=uow, currency=currency, zone=zone)
        else:
            await finish_begun_return(current, uow=uow, currency=currency, zone=zone, copy=copy)
        await uow.commit()
    return True
