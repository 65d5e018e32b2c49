"""WatchEvents' feed on a real NATS: matching events as they are accepted, heartbeats while none come, and
a watcher that does not read is cut instead of being buffered for without end."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import pytest

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from athenaeum.events.v1 import events_pb2
from services.events.api.live import NatsLiveFeed
from services.events.app.recording import RecordEvents, record_events
from services.events.data.journal import INGEST_SUBJECT, JetStreamJournal, read_batch
from services.events.domain.model import Recorder
from services.events.domain.query import build_query
from services.support.runtime.clock import SystemClock
from services.support.runtime.errors import Throttled
from services.support.runtime.messaging import EVENT_TYPE_HEADER, NatsLink
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.integration
STAFF = Recorder("users/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11", staff=True)


@pytest.fixture
async def link(nats):
    link = NatsLink(nats, name="live-test")
    task = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    yield link
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await link.close()


def feed(link: NatsLink, *, buffer: int = 100) -> NatsLiveFeed:
    return NatsLiveFeed(
        link,
        ingest_subject=INGEST_SUBJECT,
        read_batch=read_batch,
        clock=SystemClock(),
        heartbeat_seconds=0.2,
        buffer=buffer,
    )


async def accept(link: NatsLink, kind: str, count: int, *, request_id: str = "", at: datetime | None = None) -> None:
    journal = JetStreamJournal(link, max_bytes=64 << 20)
    await journal.declare()
    stamp = timestamp(at or datetime.now(UTC))
    request = events_pb2.BatchRecordEventsRequest(
        events=[events_pb2.Event(type=kind, occur_time=stamp) for _ in range(count)]
    )
    cmd = RecordEvents(
        events=request.events, payload=request.SerializeToString(), recorder=STAFF, request_id=request_id
    )
    await record_events(cmd, journal=journal, clock=SystemClock())


async def test_a_watcher_gets_matching_events_and_heartbeats_in_between(link) -> None:
    kind = f"test.live{uuid.uuid4().hex[:8]}"
    async with feed(link).watch(build_query(type=kind)) as items:
        assert await asyncio.wait_for(anext(items), 2) is None  # a heartbeat: nothing yet
        await accept(link, "test.other", 5)
        await accept(link, kind, 2)
        received = []
        while len(received) < 2:
            item = await asyncio.wait_for(anext(items), 2)
            if item is not None:
                received.append(item)
    assert [r.type for r in received] == [kind, kind] and all(r.actor == STAFF.name for r in received)


async def test_a_watcher_that_does_not_read_is_cut_with_resource_exhausted(link) -> None:
    kind = f"test.slow{uuid.uuid4().hex[:8]}"
    async with feed(link, buffer=10).watch(build_query(type=kind)) as items:
        await accept(link, kind, 50)
        await asyncio.sleep(0.3)  # the feed offers 50 events to a queue of 10 meanwhile
        with pytest.raises(Throttled) as cut:
            async for _ in items:
                pass
    assert cut.value.reason == "WATCHER_TOO_SLOW"


async def test_a_retried_batch_and_a_republished_domain_event_are_shown_once(link) -> None:
    """The core subscription gets every publish, also those JetStream drops as repeats: a watcher counting
    events (an auditor's tail, a dashboard) counted a client's retries and each outbox re-publish."""
    kind = f"test.dup{uuid.uuid4().hex[:8]}"
    book = f"books/{uuid.uuid4()}"
    async with feed(link).watch(build_query()) as items:
        request_id, at = str(uuid.uuid4()), datetime.now(UTC)
        for _ in range(2):  # a client's retry: the same request again
            await accept(link, kind, 3, request_id=request_id, at=at)
        created = catalog_events.BookCreated(event_id=str(uuid.uuid4()), book=catalog_pb2.Book(name=book, title="x"))
        headers = {EVENT_TYPE_HEADER: created.DESCRIPTOR.full_name, "Nats-Msg-Id": created.event_id}
        for _ in range(3):
            await link.client().publish(
                "athenaeum.catalog.book_created.v1", created.SerializeToString(), headers=headers
            )
        await accept(link, kind, 1)  # another batch: shown
        seen: list[str] = []
        quiet_until = asyncio.get_running_loop().time() + 1.5  # what is shown comes at once
        while asyncio.get_running_loop().time() < quiet_until:
            item = await asyncio.wait_for(anext(items), 2)
            if item is not None and (item.type == kind or item.subject == book):
                seen.append(item.type)
    assert seen.count(kind) == 4 and seen.count("athenaeum.catalog.book_created") == 1, seen
