"""Composition root of the events service: build the graph once, then serve."""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import timedelta
from functools import partial

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.events.api.audit import load_payload_types
from services.events.api.live import NatsLiveFeed
from services.events.api.servicer import EventsServicer
from services.events.app.upkeep import keep_partitions
from services.events.data.journal import INGEST_SUBJECT, JetStreamJournal, read_batch
from services.events.data.unit_of_work import SqlEventsUnitOfWork
from services.events.settings import EventsSettings
from services.events.store import build_store, store_process
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.clock import SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, run, served
from services.support.runtime.workers import SupervisedWorker

NAME = "events"
log = logging.getLogger("athenaeum.events")


async def build(settings: EventsSettings) -> ServiceApp:
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

    async def upkeep() -> None:
        while True:
            try:
                await keep_partitions(
                    uow=uow(),
                    clock=clock,
                    months_ahead_count=settings.partitions_ahead,
                    retention=timedelta(days=settings.activity_retention_days),
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
            SupervisedWorker(f"events-store-{n}", store_process, (settings, f"events-store-{n}", n == 0))
            for n in range(settings.store_processes)
        ]
        storage = [declare_journal, *(store.run for store in stores)]
        checks = [store.check for store in stores]
    else:  # in this process (a machine with one core)
        store = build_store(settings, infra)
        storage, checks = [declare_journal, store.consume], [store.check]

    servicer = EventsServicer(uow=uow, journal=journal, feed=feed, clock=clock)
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
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
        background=[upkeep, *storage],
        checks=checks,
        # A batch's request_id is its JetStream Msg-Id: the stream drops a repeat, with no database on the path.
        request_ledger=False,
    )


def main() -> None:
    settings = EventsSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
