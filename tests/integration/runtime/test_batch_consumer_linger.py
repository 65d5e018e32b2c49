"""A batch consumer with a linger stores a trickle of messages in fewer, larger fetches, and loses none."""

from __future__ import annotations

import asyncio
import time
import uuid

import nats as nats_py
import pytest

from services.support.runtime.batch_consumers import BatchConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name

pytestmark = pytest.mark.integration
MESSAGES = 10
GAP_SECONDS = 0.03


async def _fetches_for_a_trickle(nats: str, link: NatsLink, *, linger: float) -> list[list[bytes]]:
    """Publishes MESSAGES one every GAP_SECONDS and returns what each fetch handed to the handler."""
    subject = f"athenaeum.catalog.linger_{uuid.uuid4().hex[:10]}.v1"
    spec = ConsumerSpec(stream_name("catalog"), f"linger-{uuid.uuid4().hex[:10]}", subject, linger_seconds=linger)
    fetches: list[list[bytes]] = []

    async def handler(messages: list[nats_py.aio.msg.Msg]) -> list[nats_py.aio.msg.Msg]:
        fetches.append([message.data for message in messages])
        return []

    consumer = BatchConsumer(link, spec, handler)
    running = asyncio.create_task(consumer.run())
    client = await nats_py.connect(nats)
    try:
        deadline = time.monotonic() + 10
        while not consumer.health.is_up():
            assert time.monotonic() < deadline, "the consumer never subscribed"
            await asyncio.sleep(0.02)
        js = client.jetstream()
        for n in range(MESSAGES):
            await js.publish(subject, f"m{n}".encode(), headers={"Nats-Msg-Id": f"{subject}-{n}"})
            await asyncio.sleep(GAP_SECONDS)
        while sum(map(len, fetches)) < MESSAGES:
            assert time.monotonic() < deadline, f"handled only {fetches}"
            await asyncio.sleep(0.02)
    finally:
        running.cancel()
        await client.close()
    return fetches


async def test_a_lingering_consumer_takes_a_trickle_in_fewer_fetches_and_loses_nothing(nats, link) -> None:
    eager = await _fetches_for_a_trickle(nats, link, linger=0.0)
    lingering = await _fetches_for_a_trickle(nats, link, linger=0.4)

    expected = [f"m{n}".encode() for n in range(MESSAGES)]
    assert [data for fetch in eager for data in fetch] == expected
    assert [data for fetch in lingering for data in fetch] == expected  # in order, none twice
    assert len(lingering) <= 3 < len(eager)
