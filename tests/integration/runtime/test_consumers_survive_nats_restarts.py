"""Consumers go on after NATS is killed and restarted: they subscribe again, resume where they stopped,
and say they are down while they are (issue 9: logout stopped working after a NATS restart)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import nats as nats_py
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from nats_faults import kill_nats, start_nats_again

from athenaeum.users.v1 import events_pb2 as users_events
from services.support.runtime.auth import RevocationFeed, RevocationList
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name

pytestmark = pytest.mark.integration
SUBJECT = "athenaeum.catalog.book_created.v1"


@pytest.fixture
async def link(own_nats) -> AsyncIterator[NatsLink]:
    link = NatsLink(own_nats.url, name="consumer-test")
    connecting = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    yield link
    connecting.cancel()
    await link.close()


async def _publish(url: str, subject: str, payloads: list[bytes]) -> None:
    client = await nats_py.connect(url)
    try:
        js = client.jetstream()
        for payload in payloads:
            await js.publish(subject, payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await client.close()


async def _eventually(condition: Callable[[], bool | Awaitable[bool]], *, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


def _running(job: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    return asyncio.create_task(job())


async def test_a_follower_resumes_after_a_restart_and_misses_nothing(own_nats, infra_supervisor, link) -> None:
    seen: list[bytes] = []
    follower = Follower(
        link, name="test-follower", stream=stream_name("catalog"), subject="athenaeum.catalog.>",
        handle=lambda message: seen.append(message.data),
    )  # fmt: skip
    task = _running(follower.run)
    try:
        await _eventually(follower.health.is_up)
        await _publish(own_nats.url, SUBJECT, [b"before-1", b"before-2"])
        await _eventually(lambda: len(seen) == 2)

        await asyncio.to_thread(kill_nats, infra_supervisor, own_nats)
        await _eventually(lambda: not follower.health.is_up())  # down shows in health
        await asyncio.to_thread(start_nats_again, infra_supervisor, own_nats)
        await _publish(own_nats.url, SUBJECT, [b"after-1", b"after-2"])

        await _eventually(lambda: len(seen) == 4)
        assert seen == [b"before-1", b"before-2", b"after-1", b"after-2"]  # in order, none twice
        await _eventually(follower.health.is_up)
    finally:
        task.cancel()


async def test_a_durable_consumer_resumes_from_its_position(own_nats, infra_supervisor, link) -> None:
    handled: list[bytes] = []

    async def handle(message: nats_py.aio.msg.Msg) -> None:
        handled.append(message.data)

    spec = ConsumerSpec(stream=stream_name("catalog"), durable="test-durable", filter_subject="athenaeum.catalog.>")
    consumer = DurableConsumer(link, spec, handle)
    task = _running(consumer.run)
    try:
        await _publish(own_nats.url, SUBJECT, [b"one", b"two"])
        await _eventually(lambda: len(handled) == 2)
        await asyncio.to_thread(kill_nats, infra_supervisor, own_nats)
        await _eventually(lambda: not consumer.health.is_up())
        await asyncio.to_thread(start_nats_again, infra_supervisor, own_nats)
        await _publish(own_nats.url, SUBJECT, [b"three"])
        await _eventually(lambda: b"three" in handled)
        # kill -9 may lose the server's record of the last acks, so an acked message can come again (at least
        # once: handlers skip event ids they have seen); nothing is lost and the order holds.
        assert list(dict.fromkeys(handled)) == [b"one", b"two", b"three"]
        assert await consumer.health.check()
    finally:
        task.cancel()


def _revoked(session_id: str) -> bytes:
    expires = Timestamp()
    expires.FromDatetime(datetime.now(UTC) + timedelta(minutes=15))
    event = users_events.SessionRevoked(event_id=str(uuid.uuid4()), session_id=session_id, expire_time=expires)
    return event.SerializeToString()


async def test_logout_still_works_after_nats_is_killed_and_restarted(own_nats, infra_supervisor, link) -> None:
    feed = RevocationFeed.of_event("users", users_events.SessionRevoked)
    revocations = RevocationList(feed)
    follower = revocations.follower(link)
    assert follower is not None
    task = _running(follower.run)
    try:
        await _publish(own_nats.url, feed.subject, [_revoked("before")])
        await _eventually(lambda: revocations.is_revoked("before"))
        await asyncio.to_thread(kill_nats, infra_supervisor, own_nats)
        await asyncio.to_thread(start_nats_again, infra_supervisor, own_nats)
        await _publish(own_nats.url, feed.subject, [_revoked("after")])
        await _eventually(lambda: revocations.is_revoked("after"), within=10)
    finally:
        task.cancel()
