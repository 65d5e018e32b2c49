"""A consumer reads only the subjects its spec names; a durable made with other subjects (an earlier release's)
is given the new ones when it subscribes, and keeps its place in the stream."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats as nats_py
import pytest

from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name

pytestmark = pytest.mark.integration


@asynccontextmanager
async def _consuming(link: NatsLink, spec: ConsumerSpec, seen: list[str]) -> AsyncIterator[DurableConsumer]:
    async def handler(message: nats_py.aio.msg.Msg) -> None:
        seen.append(message.data.decode())

    consumer = DurableConsumer(link, spec, handler)
    running = asyncio.create_task(consumer.run())
    try:
        await _until(consumer.health.is_up, "the consumer never subscribed")
        yield consumer
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_durable_given_fewer_subjects_reads_only_those_from_where_it_was(link: NatsLink) -> None:
    base = f"athenaeum.catalog.subjects_{uuid.uuid4().hex[:10]}"
    kept, dropped = f"{base}.kept.v1", f"{base}.dropped.v1"
    wide = ConsumerSpec(stream_name("catalog"), f"subjects-{uuid.uuid4().hex[:10]}", f"{base}.>")
    js = link.jetstream()
    seen: list[str] = []
    async with _consuming(link, wide, seen):
        await js.publish(kept, b"k1")
        await js.publish(dropped, b"d1")
        await _until(lambda: len(seen) == 2, f"handled only {seen}")

    narrow = ConsumerSpec(wide.stream, wide.durable, (kept, f"{base}.other.v1"))
    async with _consuming(link, narrow, seen):
        info = await js.consumer_info(narrow.stream, narrow.durable)
        assert set(info.config.filter_subjects or ()) == set(narrow.subjects)
        for data, subject in ((b"d2", dropped), (b"k2", kept), (b"d3", dropped), (b"k3", kept)):
            await js.publish(subject, data)
        await _until(lambda: len(seen) == 4, f"handled {seen}")
        await asyncio.sleep(0.2)  # nothing more comes
        info = await js.consumer_info(narrow.stream, narrow.durable)
    assert seen == ["k1", "d1", "k2", "k3"]  # nothing read twice, none of the dropped subject
    assert info.num_pending == 0 and info.num_ack_pending == 0
