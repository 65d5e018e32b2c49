"""Composition root of the loans service: build the graph once, then serve."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial
from typing import Any

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.loans.api import events
from services.loans.api.servicer import LoansServicer
from services.loans.api.users_feed import AccountsConsumer
from services.loans.app.describing import describe_holds
from services.loans.app.issuing import no_fault
from services.loans.app.peers import Catalog, Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.reconciling import ReconcilePolicy
from services.loans.app.scheduled import scheduled_pass
from services.loans.data.calendar_cache import ClosedDayCache, closed_day_cache_follower
from services.loans.data.copy_feed import CopiesConsumer
from services.loans.data.item_type_feed import ItemTypesConsumer
from services.loans.data.peers import GrpcCatalog, GrpcUsers
from services.loans.data.projected_users import ProjectedUsers
from services.loans.data.rule_cache import RuleCache
from services.loans.data.rule_feed import rule_cache_follower
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.reminders import ReminderSchedule
from services.loans.settings import LoansSettings
from services.support.runtime import telemetry
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.clock import Clock, SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, mesh_channel, run, served
from services.support.runtime.settings import read_settings

NAME = "loans"
log = logging.getLogger("athenaeum.loans")


def crash_now() -> None:
    """The fault the crash tests inject: the process vanishes as with `kill -9`."""
    os.kill(os.getpid(), signal.SIGKILL)


def scheduler(
    *,
    uow: Callable[[], LoansUnitOfWork],
    clock: Clock,
    catalog: Catalog,
    currency: str,
    policy: ReconcilePolicy,
    interval: float,
) -> Callable[[], Coroutine[Any, Any, None]]:
    """Reconcile now (recovering what a crash left) and then every `interval` seconds, when no other loans
    process is reconciling (app/scheduled.py)."""

    async def run_forever() -> None:
        while True:
            try:
                report = await scheduled_pass(
                    leader=uow(), uow=uow(), clock=clock, catalog=catalog, currency=currency, policy=policy
                )
                if report is not None and report.discrepancies:
                    log.warning("reconciliation found: %s", "; ".join(report.discrepancies))
                await describe_holds(uow=uow(), catalog=catalog)
            except Exception as error:  # a peer or the database is away: the next pass tries again
                log.warning("reconciliation failed: %s", error)
            await asyncio.sleep(interval)

    return run_forever


def units_of_work(
    infra: Infrastructure, settings: LoansSettings, *, rule_cache: RuleCache, closed_day_cache: ClosedDayCache
) -> Callable[[], SqlLoansUnitOfWork]:
    """The service's unit of work, made for each use case's run. What the settings fix (the encoder in the
    library's zone, its branches) is made here once: parsing the listed branches again for each unit of work
    (~10 a loan cycle) cost ~30 us each."""
    encode, branches = events.encoder(settings.library_zone), settings.branches

    def unit_of_work() -> SqlLoansUnitOfWork:
        return SqlLoansUnitOfWork(
            infra.sessions,
            encode=encode,
            on_commit=infra.relay.wake,
            read_sessions=infra.read_sessions,
            rule_cache=rule_cache,
            closed_day_cache=closed_day_cache,
            # Every transaction on the driver's own: the saga's steps are most of this service's work.
            on_driver=True,
            branches=branches,
        )

    return unit_of_work


async def build(settings: LoansSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    channel = mesh_channel(settings)

    rule_cache = RuleCache(ttl_seconds=settings.rules_cache_ttl_seconds)
    telemetry.CACHES.watch("rules", rule_cache)
    closed_day_cache = ClosedDayCache(ttl_seconds=settings.rules_cache_ttl_seconds)
    telemetry.CACHES.watch("closed_days", closed_day_cache)

    unit_of_work = units_of_work(infra, settings, rule_cache=rule_cache, closed_day_cache=closed_day_cache)
    clock = SystemClock()
    catalog = GrpcCatalog(channel, timeout=settings.peer_timeout_seconds)
    reconcile = ReconcilePolicy(
        time_zone=settings.library_zone,
        saga_timeout=timedelta(seconds=settings.saga_timeout_seconds),
        reminders=ReminderSchedule.of_days(settings.reminder_schedule_days),
    )
    users: Users = GrpcUsers(channel, timeout=settings.peer_timeout_seconds)
    # The projection's consumer runs in the background, not as a health dependency: while it is behind or
    # down, issues ask users.
    projection: list[Callable[[], Coroutine[Any, Any, None]]] = []
    if settings.patron_projection:
        accounts = AccountsConsumer(infra.nats, unit_of_work, clock=clock, catalog=catalog, zone=settings.library_zone)
        users = ProjectedUsers(
            uow=unit_of_work, link=infra.nats, consumer=accounts.spec, clock=clock, asked=users, ready=accounts.ready
        )
        projection.append(accounts.run)
    servicer = LoansServicer(
        uow=unit_of_work,
        clock=clock,
        users=users,
        catalog=catalog,
        borrowing=BorrowingPolicy(settings.max_overdue_loans, settings.max_outstanding_fines, settings.library_zone),
        currency=settings.currency_code,
        reconcile=reconcile,
        after_checkout=crash_now if settings.fault_crash_after_checkout else no_fault,
        branches=settings.branches,
    )
    # The rules feed runs in the background, not as a health dependency: while it is down loans still serves,
    # reading the rules from the database.
    feed = [rule_cache_follower(rule_cache, infra.nats).run] if rule_cache.enabled else []
    feed += [closed_day_cache_follower(closed_day_cache, infra.nats).run] if closed_day_cache.enabled else []
    # The pull list and the hold shelf follow a held copy that a cataloguer moves (another shelf, call number).
    feed.append(CopiesConsumer(infra.nats, unit_of_work).run)
    # The circulation rules follow the catalog's item types: a rename re-keys them, a deletion deletes them.
    feed.append(ItemTypesConsumer(infra.nats, unit_of_work, clock, catalog).run)
    reconciler = scheduler(
        uow=unit_of_work,
        clock=clock,
        catalog=catalog,
        currency=settings.currency_code,
        policy=reconcile,
        interval=settings.reconcile_interval_seconds,
    )
    app = infra.app(
        [
            served(
                loans_pb2.DESCRIPTOR.services_by_name["LoansService"],
                loans_pb2_grpc.add_LoansServiceServicer_to_server,
                servicer,
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
        background=[*feed, *projection, *([reconciler] if settings.reconcile_interval_seconds > 0 else [])],
    )
    app.closers = [*app.closers, partial(channel.close, None)]
    return app


def main() -> None:
    settings = read_settings(LoansSettings)  # a wrong setting: one line naming it, exit 1
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
