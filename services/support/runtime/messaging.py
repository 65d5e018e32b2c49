"""NATS JetStream helpers: a resilient connection, the streams of each bounded context, durable pull
consumers that ack only after the handler's commit and dead-letter after the last delivery."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.support.runtime.telemetry import CONSUMER_MESSAGES, CONSUMER_PENDING
from services.support.runtime.tracing import consuming

log = logging.getLogger("athenaeum.messaging")

EVENT_TYPE_HEADER = "Athenaeum-Event-Type"
ACTOR_HEADER = "Athenaeum-Actor"
"""Who made the call that recorded an event (see outbox.actor_header): for the audit trail."""
# Long enough to cover a relay that crashed between publish and marking its rows published.
DUPLICATE_WINDOW_SECONDS = 15 * 60.0
CONTEXTS = ("users", "catalog", "loans", "notifications", "events")


def subject(context: str, event: str) -> str:
    """Subjects read `athenaeum.<context>.<event>.v1`, e.g. athenaeum.loans.loan_issued.v1."""
    return f"athenaeum.{context}.{event}.v1"


def stream_name(context: str) -> str:
    return f"ATHENAEUM_{context.upper()}"


def stream_config(context: str, *, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=stream_name(context),
        subjects=[f"athenaeum.{context}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=30 * 24 * 3600.0,
        num_replicas=replicas,
    )


DLQ_STREAM = StreamConfig(
    name="ATHENAEUM_DLQ", subjects=["athenaeum.dlq.>"], storage=StorageType.FILE, max_age=30 * 24 * 3600.0
)


class NatsLink:
    """One NATS connection per process that (re)connects in the background: a service starts, and reports
    NOT_SERVING, while NATS is away, instead of crashing."""

    def __init__(self, url: str, *, name: str, stream_replicas: int = 1) -> None:
        self._url = url
        self._name = name
        self._stream_replicas = stream_replicas
        self._client: NatsClient | None = None
        self._connected = asyncio.Event()

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def jetstream(self) -> JetStreamContext:
        return self.client().jetstream()

    def client(self) -> NatsClient:
        """The connection itself, for core NATS (subscriptions that need no stream)."""
        if self._client is None:
            raise ConnectionError("NATS is not connected yet")
        return self._client

    async def run(self) -> None:
        """Connect (retrying until it works) and declare the streams; nats-py reconnects by itself after."""
        delay = 0.2
        while self._client is None:
            try:
                client = await nats.connect(
                    self._url,
                    name=self._name,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                )
            except Exception as error:
                log.warning("NATS not reachable yet: %s", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            await ensure_streams(client.jetstream(), replicas=self._stream_replicas)
            self._client = client
            self._connected.set()

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.drain()


async def ensure_streams(js: JetStreamContext, *, replicas: int = 1) -> None:
    """Declare every context's stream (idempotent: add, or update to the current config)."""
    dead_letters = dataclasses.replace(DLQ_STREAM, num_replicas=replicas)
    for config in (*(stream_config(context, replicas=replicas) for context in CONTEXTS), dead_letters):
        try:
            await js.stream_info(str(config.name))
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)


Handler = Callable[[Msg], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    stream: str
    durable: str
    filter_subject: str
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    batch: int = 64
    max_ack_pending: int = 1000


async def consume(link: NatsLink, spec: ConsumerSpec, handler: Handler) -> None:
    """Run a durable pull consumer forever. The handler commits its own work (and skips event ids it has seen);
    the message is acked only after it returns, nak'd with a delay on failure, dead-lettered after the last try."""
    await link.wait_connected()
    js = link.jetstream()
    subscription = await _pull_subscription(js, spec)
    while True:
        for message in (messages := await _fetch(subscription, spec)):
            await _deliver(js, spec, handler, message)
        _report_lag(spec, messages)


async def _fetch(subscription: JetStreamContext.PullSubscription, spec: ConsumerSpec) -> list[Msg]:
    """The next messages; none when nothing came within a second."""
    try:
        return await subscription.fetch(spec.batch, timeout=1.0)
    except (TimeoutError, nats.errors.TimeoutError):
        return []


def _report_lag(spec: ConsumerSpec, messages: list[Msg]) -> None:
    # The last message's metadata says how many are still waiting: the lag, without asking the server.
    CONSUMER_PENDING.labels(spec.durable).set(messages[-1].metadata.num_pending if messages else 0)


async def _pull_subscription(js: JetStreamContext, spec: ConsumerSpec) -> JetStreamContext.PullSubscription:
    config = ConsumerConfig(
        durable_name=spec.durable,
        ack_policy=AckPolicy.EXPLICIT,
        max_deliver=spec.max_deliver,
        ack_wait=spec.ack_wait_seconds,
        filter_subject=spec.filter_subject,
        max_ack_pending=spec.max_ack_pending,
    )
    return await js.pull_subscribe(spec.filter_subject, durable=spec.durable, stream=spec.stream, config=config)


BatchHandler = Callable[[list[Msg]], Awaitable[Sequence[Msg]]]
"""Handles a whole fetch (one transaction for many messages); returns the messages it could not read."""


async def consume_batches(link: NatsLink, spec: ConsumerSpec, handler: BatchHandler, *, workers: int = 1) -> None:
    """`workers` pull subscriptions on one durable consumer, each handing whole fetches to `handler`.

    Messages are acked once the handler returns; those it could not read are dead-lettered at once. When it
    raises, the whole fetch is nak'd with a delay (dead-lettered after the last delivery unless max_deliver
    is -1: retried until it works, for work that must not be lost). A worker survives NATS restarts.
    """
    await link.wait_connected()
    await asyncio.gather(*(_batch_worker(link, spec, handler) for _ in range(workers)))


async def _batch_worker(link: NatsLink, spec: ConsumerSpec, handler: BatchHandler) -> None:
    delay = 0.2
    while True:
        subscription = None
        try:
            js = link.jetstream()
            subscription = await _pull_subscription(js, spec)
            while True:
                if messages := await _fetch(subscription, spec):
                    await _deliver_batch(js, spec, handler, messages)
                    delay = 0.2
                _report_lag(spec, messages)
        except Exception as error:  # NATS away, or the consumer lost: subscribe again when it is back
            log.warning("consumer %s paused: %s", spec.durable, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        finally:  # also when cancelled: a live subscription would hold up the connection's drain
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()


async def _deliver_batch(js: JetStreamContext, spec: ConsumerSpec, handler: BatchHandler, messages: list[Msg]) -> None:
    first = messages[0]
    with consuming(
        first.subject, message_id=(first.headers or {}).get("Nats-Msg-Id", ""), headers=first.headers
    ) as span:
        try:
            unreadable = await handler(messages)
        except Exception as error:
            span.record_exception(error)
            for message in messages:
                await _retry_or_dead_letter(js, spec, message, error)
            return
    dead = {id(message) for message in unreadable}
    for message in messages:
        if id(message) in dead:
            await _dead_letter(js, spec, message, "unreadable")
        else:
            await message.ack()
    CONSUMER_MESSAGES.labels(spec.durable, "acked").inc(len(messages) - len(dead))


async def _deliver(js: JetStreamContext, spec: ConsumerSpec, handler: Handler, message: Msg) -> None:
    headers = message.headers or {}
    with consuming(message.subject, message_id=headers.get("Nats-Msg-Id", ""), headers=headers) as span:
        try:
            await handler(message)
        except Exception as error:
            span.record_exception(error)
            await _retry_or_dead_letter(js, spec, message, error)
            return
        await message.ack()
        CONSUMER_MESSAGES.labels(spec.durable, "acked").inc()


async def _retry_or_dead_letter(js: JetStreamContext, spec: ConsumerSpec, message: Msg, error: Exception) -> None:
    attempt = message.metadata.num_delivered
    if 0 < spec.max_deliver <= attempt:
        await _dead_letter(js, spec, message, f"{error} (after {attempt} attempts)")
    else:
        log.warning("handler failed on %s (attempt %d): %s", message.subject, attempt, error)
        await message.nak(delay=min(2.0**attempt, 30.0))
        CONSUMER_MESSAGES.labels(spec.durable, "retried").inc()


async def _dead_letter(js: JetStreamContext, spec: ConsumerSpec, message: Msg, why: str) -> None:
    log.error("dead-lettering %s: %s", message.subject, why)
    await js.publish(f"athenaeum.dlq.{spec.durable}", message.data, headers=message.headers)
    await message.term()
    CONSUMER_MESSAGES.labels(spec.durable, "dead_lettered").inc()
