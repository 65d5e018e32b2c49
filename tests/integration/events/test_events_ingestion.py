"""Accepted batches through JetStream to Postgres: workers store them once, survive a NATS restart, and
a full or unreachable stream refuses batches instead of dropping them."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from athenaeum.events.v1 import events_pb2
from services.events.api.consumers import storing
from services.events.app.recording import RecordEvents, UsedRequestIds, record_events
from services.events.data.journal import (
    INGEST_STREAM,
    INGEST_SUBJECT,
    JetStreamJournal,
    JournalCannotBeReserved,
    read_batch,
)
from services.events.domain.model import Recorder
from services.support.launcher.nats import LocalNats
from services.support.launcher.processes import Supervisor
from services.support.launcher.readiness import wait_until
from services.support.runtime.batch_consumers import consume_batches
from services.support.runtime.clock import SystemClock
from services.support.runtime.errors import DependencyUnavailable, InvalidArgument, Throttled
from services.support.runtime.messaging import ConsumerSpec, NatsLink
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.integration
STAFF = Recorder("users/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11", staff=True)


@pytest.fixture
def private_nats(launcher_dir: Path, free_port_source) -> Iterator[LocalNats]:
    """A NATS of this test's own: it gets restarted, which the session's servers must not be."""
    supervisor = Supervisor(launcher_dir / f"logs-nats-{uuid.uuid4().hex[:6]}")
    server = LocalNats(launcher_dir / f"nats-{uuid.uuid4().hex[:6]}", next(free_port_source), supervisor)
    server.start()
    yield server
    supervisor.stop_all()


def private_nats_restart(server: LocalNats) -> None:
    server._supervisor.process(server.name).start()
    server.wait_ready()


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[NatsLink]:
    link = NatsLink(url, name="ingestion-test")
    task = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    try:
        yield link
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):
            await link.close()


def batch(size: int) -> events_pb2.BatchRecordEventsRequest:
    now = timestamp(datetime.now(UTC))
    return events_pb2.BatchRecordEventsRequest(
        events=[
            events_pb2.Event(name=f"events/{uuid.uuid4()}", type="bench.ingest", occur_time=now) for _ in range(size)
        ]
    )


async def accept(journal: JetStreamJournal, request: events_pb2.BatchRecordEventsRequest) -> None:
    cmd = RecordEvents(events=request.events, payload=request.SerializeToString(), recorder=STAFF)
    await record_events(cmd, journal=journal, clock=SystemClock())


async def stored(events_db) -> int:
    async with events_db.engine.connect() as connection:
        return int(await connection.scalar(sa.text("SELECT count(DISTINCT id) FROM events")))


async def wait_stored(events_db, expected: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        found = await stored(events_db)
        if found >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert found == expected


async def test_accepted_batches_are_stored_once_across_a_nats_restart(events_db, private_nats) -> None:
    spec = ConsumerSpec(INGEST_STREAM, "events-store", INGEST_SUBJECT, max_deliver=-1, ack_wait_seconds=5, batch=8)
    async with connected(private_nats.url) as link:
        journal = JetStreamJournal(link, max_bytes=64 << 20)
        await journal.declare()
        workers = asyncio.create_task(consume_batches(link, spec, storing(read_batch, events_db.uow), workers=2))
        try:
            first = [batch(500) for _ in range(4)]
            for request in first:
                await accept(journal, request)
            await accept(journal, first[0])  # a client's retry: the same bytes, dropped by JetStream
            await wait_stored(events_db, 2000)

            private_nats.stop()
            with pytest.raises(DependencyUnavailable) as refused:
                await asyncio.wait_for(accept(journal, batch(10)), 8)
            assert refused.value.retry_after
            private_nats_restart(private_nats)
            await asyncio.to_thread(wait_until, lambda: link.is_connected, timeout=15, what="reconnection")
            for _ in range(3):
                await accept(journal, batch(300))
            await wait_stored(events_db, 2900)
        finally:
            workers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers
    async with events_db.engine.connect() as connection:
        assert await connection.scalar(sa.text("SELECT count(*) FROM events")) == 2900


async def test_a_batch_larger_than_a_nats_message_is_split_and_its_events_stored(events_db, private_nats) -> None:
    spec = ConsumerSpec(INGEST_STREAM, "events-store", INGEST_SUBJECT, max_deliver=-1, batch=8)
    request = batch(1000)
    for event in request.events:
        event.attributes["padding"] = "p" * 1000  # ~1 MB: more than one NATS message holds
    async with connected(private_nats.url) as link:
        journal = JetStreamJournal(link, max_bytes=64 << 20)
        await journal.declare()
        await accept(journal, request)
        info = await link.jetstream().stream_info(INGEST_STREAM)
        assert info.state.messages >= 2
        workers = asyncio.create_task(consume_batches(link, spec, storing(read_batch, events_db.uow)))
        try:
            await wait_stored(events_db, 1000)
        finally:
            workers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers


async def test_another_batch_under_a_used_request_id_is_refused_or_stored_never_dropped(
    events_db, private_nats
) -> None:
    """Unnamed events at the same time and place in two batches under one request_id: the second batch was
    answered "accepted" and its event dropped when stored (its name minted the same as the first one's)."""
    spec = ConsumerSpec(INGEST_STREAM, "events-store", INGEST_SUBJECT, max_deliver=-1, batch=8)
    request_id, now = str(uuid.uuid4()), timestamp(datetime.now(UTC))

    def unnamed(n: str) -> events_pb2.BatchRecordEventsRequest:
        event = events_pb2.Event(type="test.reused", occur_time=now, attributes={"n": n})
        return events_pb2.BatchRecordEventsRequest(events=[event], request_id=request_id)

    async def record(request: events_pb2.BatchRecordEventsRequest, used: UsedRequestIds) -> None:
        cmd = RecordEvents(
            events=request.events,
            payload=request.SerializeToString(),
            recorder=STAFF,
            request_id=request.request_id,
            content=request.SerializeToString(deterministic=True),
        )
        await record_events(cmd, journal=journal, clock=SystemClock(), used=used)

    async with connected(private_nats.url) as link:
        journal = JetStreamJournal(link, max_bytes=64 << 20)
        await journal.declare()
        workers = asyncio.create_task(consume_batches(link, spec, storing(read_batch, events_db.uow)))
        try:
            here, another_replica = UsedRequestIds(), UsedRequestIds()
            await record(unnamed("1"), here)
            await record(unnamed("1"), here)  # a retry: dropped by JetStream
            with pytest.raises(InvalidArgument):
                await record(unnamed("2"), here)
            await record(unnamed("3"), another_replica)  # not seen there: a batch of its own, stored
            await wait_stored(events_db, 2)
        finally:
            workers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers
    async with events_db.engine.connect() as connection:
        stored_n = await connection.scalars(sa.text("SELECT attributes->>'n' FROM events ORDER BY 1"))
        assert list(stored_n) == ["1", "3"]


async def test_a_full_stream_refuses_a_batch_with_resource_exhausted_and_a_retry_delay(private_nats) -> None:
    async with connected(private_nats.url) as link:
        journal = JetStreamJournal(link, max_bytes=1 << 20)
        await journal.declare()
        with pytest.raises(Throttled) as refused:
            for _ in range(40):  # nobody consumes: ~40 KB each fills 1 MB
                await accept(journal, batch(400))
        assert refused.value.reason == "INGESTION_FULL" and refused.value.retry_after


async def test_a_stream_jetstream_has_no_room_for_is_refused_saying_what_it_needs(nats) -> None:
    async with connected(nats) as link:
        journal = JetStreamJournal(link, max_bytes=1 << 44)  # more than a test machine's disk

        with pytest.raises(JournalCannotBeReserved) as refused:
            await journal.declare()

    assert str(refused.value) == (
        "JetStream cannot reserve 16 TiB for the ingest stream EVENTS_INGEST: free disk space where NATS "
        "keeps its streams, or lower ATHENAEUM_INGEST_MAX_BYTES"
    )
