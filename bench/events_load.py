"""How events ingestion is loaded and waited on (events_ingest.py): BatchRecordEvents payloads built before the
clock starts, sent through the edge closed or open loop, and the wait until AggregateEvents counts them stored.

Its own module because it is the bench's client side, apart from what the bench measures around it (the
processes' CPU and memory, the baselines) and the report it writes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
from loadtools import NO_PROXY

from athenaeum.events.v1 import events_pb2
from services.support.runtime.wire import timestamp

BATCH = "/athenaeum.events.v1.EventsService/BatchRecordEvents"
AGGREGATE = "/athenaeum.events.v1.EventsService/AggregateEvents"


@dataclass
class Phase:
    name: str
    accepted: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0


def batches(kind: str, count: int, size: int, *, one_time: bool = False) -> list[bytes]:
    """Serialized requests: events with names (so stored ones are counted by id), two attributes each. Each
    event happened 20 us after the one before (50,000 a second), as a client's events would; `one_time`:
    all at the same moment (the worst case for a primary key led by the time: each row lands at a random
    place of one run of equal times)."""
    start = datetime.now(UTC)
    made = []
    for n in range(count):
        events = [
            events_pb2.Event(
                name=f"events/{uuid.uuid4()}",
                type=kind,
                occur_time=timestamp(start if one_time else start + timedelta(microseconds=20 * (n * size + k))),
                subject=f"books/{n % 997}",
                attributes={"query": "мастер и маргарита", "page": str(n % 10)},
            )
            for k in range(size)
        ]
        made.append(events_pb2.BatchRecordEventsRequest(events=events).SerializeToString())
    return made


async def send(target: str, token: str, payloads: list[bytes], *, clients: int, rate: float, phase: Phase) -> None:
    """Closed loop: `clients` concurrent callers take payloads in turn, back to back. With `rate` > 0, open
    loop instead: one batch every 1/rate s, whatever the answers (latency is not hidden by waiting)."""
    identity = lambda data: data  # noqa: E731 - the payloads are serialized already
    metadata = (("authorization", f"Bearer {token}"),)
    queue = iter(payloads)
    started = time.perf_counter()

    async def one(call: grpc.aio.UnaryUnaryMultiCallable, payload: bytes) -> None:
        sent = time.perf_counter()
        try:
            reply = events_pb2.BatchRecordEventsResponse.FromString(await call(payload, metadata=metadata, timeout=30))
        except grpc.aio.AioRpcError:
            phase.failed += 1
            return
        phase.latencies.append(time.perf_counter() - sent)
        phase.accepted += reply.accepted_count

    async def client(channel: grpc.aio.Channel) -> None:
        call = channel.unary_unary(BATCH, request_serializer=identity, response_deserializer=identity)
        for payload in queue:
            await one(call, payload)

    async def paced(channel: grpc.aio.Channel) -> None:
        call = channel.unary_unary(BATCH, request_serializer=identity, response_deserializer=identity)
        tasks = []
        for index, payload in enumerate(payloads):
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(call, payload)))
        await asyncio.gather(*tasks)

    channels = [grpc.aio.insecure_channel(target, options=NO_PROXY) for _ in range(clients)]
    try:
        if rate:
            await paced(channels[0])
        else:
            await asyncio.gather(*(client(channel) for channel in channels))
    finally:
        for channel in channels:
            await channel.close()
    phase.seconds = time.perf_counter() - started


async def counted(channel: grpc.aio.Channel, token: str, kind: str, start: datetime, end: datetime) -> int:
    """How many events of `kind` AggregateEvents counts with an occur_time in [start, end)."""
    request = events_pb2.AggregateEventsRequest(
        start_time=timestamp(start), end_time=timestamp(end), filter=f'type = "{kind}"'
    )
    call = channel.unary_unary(AGGREGATE, request_serializer=events_pb2.AggregateEventsRequest.SerializeToString,
                               response_deserializer=events_pb2.AggregateEventsResponse.FromString)  # fmt: skip
    reply = await call(request, metadata=(("authorization", f"Bearer {token}"),), timeout=60)
    return int(reply.total_count)


def tail_of(payloads: list[bytes], batches_count: int) -> tuple[datetime, int]:
    """The occur_time from which the last `batches_count` payloads' events happened, and how many events
    happened from then (the payloads' events are in ascending time)."""
    tail = [events_pb2.BatchRecordEventsRequest.FromString(payload).events for payload in payloads[-batches_count:]]
    return tail[0][0].occur_time.ToDatetime(tzinfo=UTC), sum(map(len, tail))


Tail = tuple[datetime, int]


async def wait_stored(
    target: str, token: str, kind: str, expected: int, since: datetime, started: float, *, tail: Tail | None
) -> float:
    """Seconds from `started` until AggregateEvents counts every accepted event. It asks about the last
    batches' moments first (a count of a few thousand rows: the journal is a queue, they are stored last),
    then counts the whole run (again while short); without `tail` (every event at one moment, or a batch
    refused), only the whole run. A whole count every 0.25 s, as before 2026-12-03, cost
    Postgres ~2 ms per 1,000 events on the cores the path being measured runs on."""
    async with grpc.aio.insecure_channel(target, options=NO_PROXY) as channel:  # one: not a channel a poll
        deadline = time.perf_counter() + 600
        start, end = since - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)
        if tail is not None:
            tail_start, tail_count = tail
            while await counted(channel, token, kind, tail_start, end) < tail_count:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"the last {tail_count} events not stored after 10 minutes")
                await asyncio.sleep(0.05)
        while (found := await counted(channel, token, kind, start, end)) < expected:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {found} of {expected} events stored after 10 minutes")
            await asyncio.sleep(0.25)
    return time.perf_counter() - started
