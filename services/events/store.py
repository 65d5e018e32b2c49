"""Composition root of the events service's store process: the JetStream consumers that write to Postgres
(accepted batches, and the audit trail of every context), apart from the gRPC process that accepts.

Storing costs about as much CPU as accepting, and a Python process uses one core at most: in a process of
its own (`store_processes` of them, started by main.py) accepting and storing use two. Nothing is lost
when one dies: the consumers are durable, a message is acknowledged only after its commit, and what a dead
process held is redelivered after `store_ack_wait_seconds`.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from services.events.api.audit import load_payload_types
from services.events.api.consumers import audit_specs, auditing, storing
from services.events.data.journal import INGEST_STREAM, INGEST_SUBJECT, JetStreamJournal, read_batch
from services.events.data.unit_of_work import SqlEventsUnitOfWork
from services.events.settings import EventsSettings
from services.support.runtime.clock import SystemClock
from services.support.runtime.consumers import BatchConsumer
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.messaging import ConsumerSpec
from services.support.runtime.telemetry import configure_logging
from services.support.runtime.tracing import configure_tracing, shutdown_tracing
from services.support.runtime.workers import run_worker

STORE_DURABLE = "events-store"


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
        consumers += [BatchConsumer(infra.nats, s, audited) for s in audit_specs(batch=settings.audit_fetch)]

    async def consume() -> None:
        await infra.nats.wait_connected()
        await journal.declare()  # a store process may start before the gRPC process declared it
        await asyncio.gather(*(consumer.run() for consumer in consumers))

    return Store(consumers, consume)


def store_process(settings: EventsSettings, role: str, audit: bool, connection: Connection) -> None:
    """The entry point of a store process (spawned by main.py's SupervisedWorker)."""
    configure_logging(service=role, level=settings.log_level)
    tracer_provider = configure_tracing(service=role, settings=settings)
    infra = Infrastructure.open(role, settings)  # connections of its own
    store = build_store(settings, infra, audit=audit)

    async def work() -> None:
        try:
            await asyncio.gather(infra.nats.run(), store.consume())
        finally:
            await infra.nats.close()
            await infra.engine.dispose()

    # Storing allocates a dozen short-lived objects per event: the heap built at start is not garbage
    # (frozen: collections skip it), and young objects are collected less often.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        run_worker(role, connection, work, store.healthy)
    finally:
        shutdown_tracing(tracer_provider)
