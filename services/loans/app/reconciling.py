"""Reconciliation: brings circulation up to date and repairs drift. Run by the scheduler of one loans process
at a time (scheduled.py) and on demand by ReconcileCirculation (each step claims its rows with SKIP LOCKED or
conditional updates, so an admin's pass beside the scheduler's is safe).

- unfinished issues: PENDING loans older than the saga timeout and FAILED loans whose copy may still be
  out are settled by checking the copy back in (compensating.compensate);
- unfinished returns: a return begun longer ago than the saga timeout is finished when the catalog has the
  copy back, and forgotten when the catalog still has it out on the loan (returning.py); likewise a
  declaration of loss, ended LOST when the catalog has the copy LOST on the loan (losing.py); these two
  steps are in unfinished_sagas.py;
- overdue loans: fines brought up to date;
- reminders: LoanDueSoon / LoanOverdue for each step of the schedule, once (domain/reminders.py);
- holds: READY past pickup -> EXPIRED, shelf copies released and offered to the next in the queue; every
  queue whose title has a copy available is served (queues.py);
- the catalog: every copy loans has put into circulation (on loan, on the hold shelf) is compared with
  loans' own records and repaired (comparing.py).

Each step runs on its own: one that fails (a bad row, a peer away) is logged and reported among the
discrepancies, and the later steps still run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from functools import partial

from services.loans.app.comparing import compare_with_catalog
from services.loans.app.fining import accrue_overdue_fine
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.queues import serve_every_queue
from services.loans.app.saga import SAGA_TIMEOUT
from services.loans.app.shelf import release_and_pass_on
from services.loans.app.unfinished_sagas import settle_unfinished_issues, settle_unfinished_returns
from services.loans.app.unlisted import name_unlisted_pickup_branches
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.reminders import DEFAULT_SCHEDULE, ReminderSchedule
from services.support.runtime.clock import Clock

log = logging.getLogger("athenaeum.loans")
_DETAIL_CHARS = 200
"""Of a failed step's error, what the report repeats (the log has all of it)."""


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """How the reconciler reads the clock."""

    time_zone: tzinfo = UTC
    """The library's: overdue days (and so fines) are counted in its dates, a hold waits to the end of its day."""
    saga_timeout: timedelta = SAGA_TIMEOUT
    """A PENDING issue older than this was abandoned (its process died): the reconciler settles it."""
    reminders: ReminderSchedule = DEFAULT_SCHEDULE
    """When LoanDueSoon / LoanOverdue are announced, relative to the due time."""


@dataclass(frozen=True, slots=True)
class ReconcileCirculation:
    dry_run: bool = False
    """Report without changing anything here or in the catalog."""
    actor: Actor = SYSTEM


@dataclass
class ReconcileReport:
    overdue_loans: int = 0
    fines_assessed: int = 0
    holds_expired: int = 0
    holds_made_ready: int = 0
    issues_settled: int = 0
    returns_settled: int = 0
    reminders_sent: int = 0
    discrepancies: list[str] = field(default_factory=list)


async def reconcile_circulation(
    cmd: ReconcileCirculation,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    currency: str,
    policy: ReconcilePolicy,
) -> ReconcileReport:
    """One pass over everything (admins, or the scheduler); reports what it found and did."""
    cmd.actor.ensure_admin("reconcile circulation")
    report = ReconcileReport()
    dry_run, zone = cmd.dry_run, policy.time_zone
    steps: dict[str, Callable[[], Awaitable[object]]] = {
        "unfinished issues": partial(
            settle_unfinished_issues, report, uow=uow, clock=clock, catalog=catalog, policy=policy, dry_run=dry_run
        ),
        "unfinished returns": partial(
            settle_unfinished_returns,
            report,
            uow=uow,
            clock=clock,
            catalog=catalog,
            currency=currency,
            policy=policy,
            dry_run=dry_run,
        ),
        "overdue fines": partial(
            bring_overdues_up_to_date, report, uow=uow, clock=clock, currency=currency, zone=zone, dry_run=dry_run
        ),
        "reminders": partial(send_reminders, report, uow=uow, clock=clock, policy=policy, dry_run=dry_run),
        "holds": partial(
            settle_holds,
            report,
            uow=uow,
            clock=clock,
            catalog=catalog,
            zone=zone,
            dry_run=dry_run,
            saga_timeout=policy.saga_timeout,
        ),
        "the catalog": partial(
            compare_with_catalog,
            report.discrepancies,
            uow=uow,
            clock=clock,
            catalog=catalog,
            saga_timeout=policy.saga_timeout,
            zone=zone,
            dry_run=dry_run,
        ),
        "branches": partial(name_unlisted_pickup_branches, report.discrepancies, uow=uow),
    }
    for step, run in steps.items():
        await _run_step(step, run, report)
    return report


async def _run_step(step: str, run: Callable[[], Awaitable[object]], report: ReconcileReport) -> None:
    """One step of the pass; its failure is logged and reported, and the pass goes on. (A step that fails on
    one bad row, a peer away, would otherwise stop every later step on every pass: holds would stop expiring
    and queues stop being served because a reminder could not be computed.)"""
    try:
        await run()
    except Exception as error:
        log.exception("reconciliation step %r failed; the other steps go on", step)
        detail = str(error)[:_DETAIL_CHARS]
        report.discrepancies.append(
            f"{step}: the step failed ({type(error).__name__}: {detail}); the next pass retries"
        )


async def bring_overdues_up_to_date(
    report: ReconcileReport, *, uow: LoansUnitOfWork, clock: Clock, currency: str, zone: tzinfo, dry_run: bool
) -> None:
    """Every overdue loan's fine grows to what its terms say it is worth today (the library's day), counting
    the days it was open."""
    now = clock.now()
    async with uow:
        closed = await uow.closed_days.in_force()  # once for the pass: no read per loan
        overdue = await uow.loans.active_due_before(now)
        fines = await uow.fines.overdue_fines_of([loan.name for loan in overdue])  # one read, not one per loan
        for loan in overdue:
            report.overdue_loans += 1
            _, changed = await accrue_overdue_fine(
                uow, loan, fines.get(loan.name), now=now, actor="system", currency=currency, zone=zone, closed=closed
            )
            report.fines_assessed += changed
        if not dry_run:
            await uow.commit()


async def send_reminders(
    report: ReconcileReport, *, uow: LoansUnitOfWork, clock: Clock, policy: ReconcilePolicy, dry_run: bool
) -> None:
    """LoanDueSoon / LoanOverdue for every loan whose next schedule step has come, by one process at a time
    (the leader of this pass; the others skip it), each step once (see domain/reminders.py)."""
    now = clock.now()
    async with uow:
        if not await uow.lead("loan reminders"):
            return
        closed = await uow.closed_days.in_force()  # once for the pass: an overdue notice's loan shows its fine's days
        for loan in await uow.loans.needing_reminder(now):
            announced = len(loan.events)
            if loan.remind(now, policy.reminders, policy.time_zone, closed=closed):
                report.reminders_sent += len(loan.events) - announced
                await uow.loans.save(loan)
        if not dry_run:
            await uow.commit()


async def settle_holds(
    report: ReconcileReport,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    zone: tzinfo,
    dry_run: bool,
    saga_timeout: timedelta = SAGA_TIMEOUT,
) -> None:
    now = clock.now()
    async with uow:
        attention = await uow.holds.needing_attention(now)
        for hold in attention:
            waiting = hold.past_pickup(now) and await uow.holds.others_waiting(hold.book, hold.patron)
            if hold.expire(now=now, next_reader_waiting=waiting):
                report.holds_expired += 1
                await uow.holds.save(hold)
        if not dry_run:
            await uow.commit()
    if dry_run:
        return
    for hold in attention:
        if hold.copy_left_on_shelf:
            await release_and_pass_on(hold.id, uow=uow, clock=clock, catalog=catalog, zone=zone)
    await serve_every_queue(report, uow=uow, clock=clock, catalog=catalog, zone=zone, repairing=saga_timeout)
