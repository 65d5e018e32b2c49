"""A message whose handler finds a dependency away (DependencyUnavailable) waits for as long as it takes: those
failures use none of its tries, and it is handled once the dependency answers. Other failures are still
dead-lettered after the spec's max_deliver. A durable made by an earlier release with a server-side
max_deliver (which counts every delivery) is given the far higher backstop."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Sequence

import pytest
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from services.support.runtime import redelivery
from services.support.runtime.batch_consumers import BatchConsumer
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.messaging import DLQ_STREAM, ConsumerSpec, NatsLink, stream_name

pytestmark = pytest.mark.integration
WAITS = 7  # more than max_deliver: the server's count alone would have given up


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redelivery, "RETRY_BASE_SECONDS", 0.01)


class Flaky:
    """ "wait…" messages find the dependency away WAITS times, then are handled; "bad…" ones always fail."""

    def __init__(self) -> None:
        self.tries: Counter[str] = Counter()
        self.handled: list[str] = []

    def __call__(self, body: str) -> None:
        self.tries[body] += 1
        if body.startswith("bad"):
            raise RuntimeError(f"{body} cannot be handled")
        if self.tries[body] <= WAITS:
            raise DependencyUnavailable("the users service cannot be asked")
        self.handled.append(body)


async def _made_by_an_earlier_release(link: NatsLink, spec: ConsumerSpec) -> None:
    config = ConsumerConfig(
        durable_name=spec.durable, ack_policy=AckPolicy.EXPLICIT, max_deliver=5, filter_subject=spec.subjects[0]
    )
    await link.jetstream().add_consumer(spec.stream, config=config)


async def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def _dead_letters(link: NatsLink, durable: str) -> list[bytes]:
    js = link.jetstream()
    subscription = await js.subscribe(f"athenaeum.dlq.{durable}", stream=str(DLQ_STREAM.name), ordered_consumer=True)
    found: list[bytes] = []
    try:
        while True:
            found.append((await subscription.next_msg(timeout=0.5)).data)
    except TimeoutError:
        return found
    finally:
        await subscription.unsubscribe()


async def _run(link: NatsLink, consumer: DurableConsumer, flaky: Flaky, subject: str) -> None:
    running = asyncio.create_task(consumer.run())
    try:
        await _until(consumer.health.is_up, "the consumer never subscribed")
        for body in ("wait-1", "bad-1", "wait-2"):
            await link.jetstream().publish(subject, body.encode())
        await _until(lambda: len(flaky.handled) == 2 and flaky.tries["bad-1"] >= 5, f"{flaky.tries}")
        await asyncio.sleep(0.5)  # no more tries of the bad one come
        info = await link.jetstream().consumer_info(consumer.spec.stream, consumer.spec.durable)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert sorted(flaky.handled) == ["wait-1", "wait-2"]
    assert flaky.tries["wait-1"] == WAITS + 1 and flaky.tries["bad-1"] == 5
    assert await _dead_letters(link, consumer.spec.durable) == [b"bad-1"]
    assert (
        info.config.max_deliver == redelivery.SERVER_DELIVERIES
    )  # a backstop only: the failures are counted in the process
    assert info.num_pending == 0 and info.num_ack_pending == 0


def _spec() -> tuple[ConsumerSpec, str]:
    subject = f"athenaeum.catalog.waits_{uuid.uuid4().hex[:10]}.v1"
    return ConsumerSpec(stream_name("catalog"), f"waits-{uuid.uuid4().hex[:10]}", subject, max_deliver=5), subject


async def test_a_message_waits_on_a_dependency_for_as_long_as_it_takes(link: NatsLink) -> None:
    spec, subject = _spec()
    await _made_by_an_earlier_release(link, spec)
    flaky = Flaky()

    async def handler(message: Msg) -> None:
        flaky(message.data.decode())

    await _run(link, DurableConsumer(link, spec, handler), flaky, subject)


async def test_a_batch_waits_on_a_dependency_for_as_long_as_it_takes(link: NatsLink) -> None:
    spec, subject = _spec()
    spec = ConsumerSpec(spec.stream, spec.durable, subject, max_deliver=5, batch=1)  # one message a fetch
    await _made_by_an_earlier_release(link, spec)
    flaky = Flaky()

    async def handler(messages: list[Msg]) -> Sequence[Msg]:
        for message in messages:
            flaky(message.data.decode())
        return []

    await _run(link, BatchConsumer(link, spec, handler), flaky, subject)
