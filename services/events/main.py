"""Composition root of the events service: build the graph once, then serve.

The gRPC process (`build`) accepts, answers queries and watches, and keeps the partitions; storing (the
JetStream consumers that write accepted batches, and the audit trail of every context, to Postgres) runs in
`store_processes` processes of their own (`store_process`, default 1): a Python process uses one core at
most, so apart, accepting and storing use two (on the 2-core bench machine ~1.3x the stored rate;
bench/README.md). `main` forks a zygote per store process before anything starts, and the zygote forks
the store process: it shares the service's imported memory (~40 MiB more, where a spawned one cost ~110).
With `store_processes` 0 one process does everything. Nothing is lost when a store process dies: its
consumers are durable, a message is acknowledged only after its commit, and what a dead one held is
redelivered after `store_ack_wait_seconds`; the gRPC process starts a new one and is NOT_SERVING meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.events.api.audit import load_payload_types
from services.events.api.consumers import audit_specs, auditing, storing
from services.events.api.live import NatsLiveFeed
from services.events.api.servicer import EventsServicer
from services.events.app.upkeep import keep_partitions
from services.events.data.journal import INGEST_STREAM, INGEST_SUBJECT, JetStreamJournal, read_batch
from services.events.data.unit_of_work import SqlEventsUnitOfWork
from services.events.domain.budget import BudgetPolicy, RecordingBudget
from services.events.domain.rules import MAX_BATCH_READ_BYTES
from services.events.settings import EventsSettings
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.batch_consumers import BatchConsumer
from services.support.runtime.clock import SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.messaging import ConsumerSpec
from services.support.runtime.server import ServiceApp, run, served
from services.support.runtime.settings import read_settings
from services.support.runtime.telemetry import configure_logging
from services.support.runtime.tracing import configure_tracing, shutdown_tracing
from services.support.runtime.workers import SupervisedWorker, run_worker
from services.support.runtime.zygote import Zygote

NAME = "events"
STORE_DURABLE = "events-store"
STORE_NICENESS = 5
log = logging.getLogger("athenaeum.events")


async def build(settings: EventsSettings, zygotes: Sequence[Zygote] = ()) -> ServiceApp:
    """The service's graph; `zygotes` (one per store process, forked by `main`) fork the store processes, else
    each is spawned."""
    infra = Infrastructure.open(NAME, settings)
    clock = SystemClock()
    load_payload_types()

    def uow() -> SqlEventsUnitOfWork:
        return SqlEventsUnitOfWork(infra.sessions)

    journal = JetStreamJournal(infra.nats, max_bytes=settings.ingest_max_bytes, replicas=settings.jetstream_replicas)
    feed = NatsLiveFeed(
        infra.nats,
        ingest_subject=INGEST_SUBJECT,
        read_batch=read_batch,
        clock=clock,
        heartbeat_seconds=settings.watch_heartbeat_seconds,
        buffer=settings.watch_buffer,
    )

    retention = timedelta(days=settings.activity_retention_days)

    async def upkeep() -> None:
        while True:
            try:
                await keep_partitions(
                    uow=uow(),
                    clock=clock,
                    months_ahead_count=settings.partitions_ahead,
                    retention=retention,
                )
            except Exception as error:  # Postgres away: the default partitions take events meanwhile
                log.warning("partition upkeep failed: %s", error)
                await asyncio.sleep(5.0)
                continue
            await asyncio.sleep(settings.upkeep_interval_seconds)

    async def declare_journal() -> None:
        await infra.nats.wait_connected()
        await journal.declare()

    if settings.store_processes:  # accepting and storing on two cores: storing in processes of their own
        stores = [
            SupervisedWorker(
                _store_role(n), store_process, _store_args(settings, n), zygote=zygotes[n] if n < len(zygotes) else None
            )
            for n in range(settings.store_processes)
        ]
        storage = [declare_journal, *(store.run for store in stores)]
        checks = [store.check for store in stores]
    else:  # in this process: within the memory of one
        store = build_store(settings, infra)  # its consume() declares the journal too
        storage, checks = [store.consume], [store.check]

    budget = RecordingBudget(BudgetPolicy(settings.reader_events_per_second, settings.reader_events_burst))
    servicer = EventsServicer(
        uow=uow, journal=journal, feed=feed, clock=clock, activity_retention=retention, budget=budget
    )
    # Ingestion allocates a dozen short-lived objects per event, 50,000 events a second: the heap built at
    # start is not garbage (frozen: collections skip it), and young objects are collected less often.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    return infra.app(
        [
            served(
                events_pb2.DESCRIPTOR.services_by_name["EventsService"],
                events_pb2_grpc.add_EventsServiceServicer_to_server,
                servicer,
                # The rules check every field of a batch more strictly than the boundary does (tests/unit/
                # events/test_rules_cover_the_boundary.py): once is enough, at 50,000 events a second.
                checked_by_servicer=("BatchRecordEvents", "StreamRecordEvents"),
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
        background=[upkeep, *storage],
        checks=checks,
        # A batch's request_id is its JetStream Msg-Id: the stream drops a repeat, with no database on the path.
        request_ledger=False,
        writes_to_nats=True,  # a batch is accepted once it is on the ingest stream: no NATS, no recording
        # A batch over 4 MiB is read, and refused by the rules (INVALID_ARGUMENT: split it), not by the transport.
        max_message_bytes=MAX_BATCH_READ_BYTES,
    )


@dataclass
class Store:
    """The consumers of a store and how to run them."""

    consumers: list[BatchConsumer]
    consume: Callable[[], Coroutine[Any, Any, None]]

    def healthy(self) -> bool:
        return all(consumer.health.is_up() for consumer in self.consumers)

    async def check(self) -> bool:
        """A health DependencyCheck (a store in the gRPC process)."""
        return self.healthy()


def store_spec(settings: EventsSettings) -> ConsumerSpec:
    return ConsumerSpec(
        INGEST_STREAM,
        STORE_DURABLE,
        INGEST_SUBJECT,
        max_deliver=-1,  # accepted events are never given up on: retried until Postgres takes them
        ack_wait_seconds=settings.store_ack_wait_seconds,
        batch=settings.store_fetch_batches,
        max_ack_pending=settings.store_fetch_batches * settings.store_workers * max(settings.store_processes, 1) * 4,
    )


def build_store(settings: EventsSettings, infra: Infrastructure, *, audit: bool = True) -> Store:
    """The store's graph: `store_workers` pull subscriptions on the ingestion stream and, in one process
    only, the audit consumers."""
    clock = SystemClock()
    load_payload_types()

    def uow() -> SqlEventsUnitOfWork:
        return SqlEventsUnitOfWork(infra.sessions)

    journal = JetStreamJournal(infra.nats, max_bytes=settings.ingest_max_bytes, replicas=settings.jetstream_replicas)
    spec = store_spec(settings)
    handler = storing(read_batch, uow)
    workers = range(settings.store_workers)
    consumers = [BatchConsumer(infra.nats, spec, handler, name=f"{spec.durable}#{n}") for n in workers]
    if audit:
        audited = auditing(uow, clock)
        specs = audit_specs(batch=settings.audit_fetch, linger=settings.audit_linger_seconds)
        consumers += [BatchConsumer(infra.nats, spec, audited) for spec in specs]

    async def consume() -> None:
        await infra.nats.wait_connected()
        await journal.declare()  # a store process may start before the gRPC process declared it
        await asyncio.gather(*(consumer.run() for consumer in consumers))

    return Store(consumers, consume)


def _store_role(n: int) -> str:
    return f"events-store-{n}"


def _store_args(settings: EventsSettings, n: int) -> tuple[EventsSettings, str, bool]:
    """`store_process`'s arguments but the report pipe: the first store process also keeps the audit trail."""
    return settings, _store_role(n), n == 0


def store_process(settings: EventsSettings, role: str, audit: bool, connection: Connection) -> None:
    """The entry point of a store process (forked by a zygote or spawned, through a SupervisedWorker)."""
    # Accepting is what a caller waits for; storing only has to keep up: when both want the same core, the
    # gRPC process goes first (the CPU left over still goes to storing).
    os.nice(STORE_NICENESS)
    configure_logging(service=role, level=settings.log_level)
    tracer_provider = configure_tracing(service=role, settings=settings)
    infra = Infrastructure.open(role, settings, context=NAME)  # connections of its own
    store = build_store(settings, infra, audit=audit)

    async def work() -> None:
        try:
            await asyncio.gather(infra.nats.run(), store.consume())
        finally:
            await infra.nats.close()
            await infra.close_database()

    # Storing allocates a dozen short-lived objects per event: the heap built at start is not garbage
    # (frozen: collections skip it), and young objects are collected less often.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        run_worker(role, connection, work, store.healthy, loop=settings.event_loop)
    finally:
        shutdown_tracing(tracer_provider)


def main() -> None:
    settings = read_settings(EventsSettings)  # a wrong setting: one line naming it, exit 1
    # Forked now, before any thread or loop: the store processes share this one's imported memory.
    zygotes = [Zygote.fork(store_process, _store_args(settings, n)) for n in range(settings.store_processes)]
    run(partial(build, settings, zygotes), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
