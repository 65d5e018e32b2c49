"""JetStream consumers that outlive NATS: after a server restart, a network cut or a vanished consumer they
subscribe again and go on from where they stopped, and while they cannot, health and metrics say so.

`DurableConsumer`: a named pull consumer the server remembers; each message is acked only after the
handler's own commit, retried with a delay on failure (while a dependency is away, for as long as it takes)
and dead-lettered after the last try (redelivery.py). The loop here also runs the followers (followers.py),
which read a stream from a point onwards with no server-side state. `BatchConsumer` (batch_consumers.py)
hands whole fetches to its handler.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.messaging import ConsumerSpec, NatsLink
from services.support.runtime.redelivery import SERVER_DELIVERIES, Failures, retry_delay, waiting_delay
from services.support.runtime.telemetry import CONSUMER_MESSAGES, CONSUMER_PENDING, CONSUMER_RESTARTS, CONSUMER_UP
from services.support.runtime.tracing import consuming

log = logging.getLogger("athenaeum.consumers")

Handler = Callable[[Msg], Awaitable[None]]
FETCH_TIMEOUT_SECONDS = 5.0
"""How long one fetch waits for messages (they are handed over as they arrive, not at its end); a healthy
loop comes back at least this often. Each idle return costs a pull request, NATS's work and a turn of the
loop: at 1 s the two dozen consumers of an idle mesh made about a third of its background CPU."""
MAX_BACKOFF_SECONDS = 5.0


class ConsumerHealth:
    """Whether a consumer loop is subscribed and coming back from its fetches (a stuck loop goes stale)."""

    def __init__(self, name: str, *, stale_after: float = 10 * FETCH_TIMEOUT_SECONDS) -> None:
        self.name = name
        self._stale_after = stale_after
        self._subscribed = False
        self._last_progress = 0.0
        CONSUMER_UP.labels(name).set(0)

    def progressed(self) -> None:
        if not self._subscribed:
            self._subscribed = True
            CONSUMER_UP.labels(self.name).set(1)
        self._last_progress = time.monotonic()

    def failed(self) -> None:
        self._subscribed = False
        CONSUMER_UP.labels(self.name).set(0)
        CONSUMER_RESTARTS.labels(self.name).inc()

    def is_up(self) -> bool:
        return self._subscribed and time.monotonic() - self._last_progress < self._stale_after

    async def check(self) -> bool:
        """A health DependencyCheck: a consumer that is down makes the service NOT_SERVING."""
        return self.is_up()


class Subscription(Protocol):
    """What the loop reads: a pull subscription, or a follower's push subscription read like one."""

    async def fetch(self, batch: int, timeout: float) -> list[Msg]: ...  # noqa: ASYNC109 - nats-py's signature
    async def unsubscribe(self) -> None: ...


class ConsumerLoop:
    """Subscribe, fetch forever, and on any failure back off and subscribe again."""

    def __init__(
        self, link: NatsLink, health: ConsumerHealth, *, batch: int, consumer: str = "", linger: float = 0.0
    ) -> None:
        self.link = link
        self.health = health
        self.batch = batch
        self.linger = linger
        self.consumer = consumer or health.name
        """The consumer's name on the server, the label of its lag (workers of one consumer share it)."""
        CONSUMER_PENDING.labels(self.consumer).set(0)

    async def _subscribe(self, js: JetStreamContext) -> Subscription:
        raise NotImplementedError

    async def _handle(self, js: JetStreamContext, messages: list[Msg]) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        delay = 0.2
        while True:
            await self.link.wait_connected()
            generation = self.link.generation
            subscription: Subscription | None = None
            try:
                js = self.link.jetstream()
                subscription = await self._subscribe(js)
                self.health.progressed()  # up once subscribed, not only when a first fetch comes back
                delay = 0.2
                await self._fetch_until_reconnected(js, subscription, generation)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # NATS away, restarted, or the consumer/stream gone: start over
                self.health.failed()
                log.warning("consumer %s lost its subscription (%s); subscribing again", self.health.name, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
            finally:
                if subscription is not None:
                    await _quietly(subscription.unsubscribe())

    async def _fetch_until_reconnected(self, js: JetStreamContext, subscription: Subscription, generation: int) -> None:
        # After a reconnect the server may have restarted and forgotten an ephemeral consumer (or a
        # durable one, if its storage went too): subscribing again is cheap and always right.
        while self.link.generation == generation:
            try:
                messages = await subscription.fetch(self.batch, timeout=FETCH_TIMEOUT_SECONDS)
            except (TimeoutError, nats.errors.TimeoutError):
                if not self.link.is_connected:
                    raise ConnectionError("disconnected from NATS") from None
                self.health.progressed()
                CONSUMER_PENDING.labels(self.consumer).set(0)
                continue
            await self._handle(js, messages)
            self.health.progressed()
            if messages:  # the last message's metadata says how many still wait: the lag, without asking
                CONSUMER_PENDING.labels(self.consumer).set(messages[-1].metadata.num_pending)
            if self.linger and len(messages) < self.batch:
                await asyncio.sleep(self.linger)
        self.health.failed()
        log.info("consumer %s: NATS reconnected, subscribing again", self.health.name)


class DurableConsumer(ConsumerLoop):
    """A durable pull consumer: the handler commits its own work (and skips event ids it has seen); the
    message is acked after it returns, nak'd with a delay on failure, dead-lettered after the last try: the
    spec's max_deliver counts the handler's failures (`failures`, shared by the workers of one durable), not
    those of a DependencyUnavailable (the server redelivers without limit: it counts every delivery)."""

    def __init__(
        self,
        link: NatsLink,
        spec: ConsumerSpec,
        handler: Handler,
        *,
        failures: Failures | None = None,
        health: ConsumerHealth | None = None,
    ) -> None:
        health = health or ConsumerHealth(spec.durable)
        super().__init__(link, health, batch=spec.batch, consumer=spec.durable, linger=spec.linger_seconds)
        self.spec = spec
        self.handler = handler
        self.failures = failures or Failures()
        for outcome in ("acked", "retried", "dead_lettered"):  # every series exists from the start, at 0
            CONSUMER_MESSAGES.labels(spec.durable, outcome)

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        subjects = self.spec.subjects
        config = ConsumerConfig(
            durable_name=self.spec.durable,
            ack_policy=AckPolicy.EXPLICIT,
            # The tries are counted here, without the deliveries that found a dependency away; the server only
            # keeps a backstop (a spec that never gives up, -1, has none).
            max_deliver=SERVER_DELIVERIES if self.spec.max_deliver > 0 else -1,
            ack_wait=self.spec.ack_wait_seconds,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=list(subjects) if len(subjects) > 1 else None,
            max_ack_pending=self.spec.max_ack_pending,
        )
        await self._refilter(js, config)
        return await js.pull_subscribe(subjects[0], durable=self.spec.durable, stream=self.spec.stream, config=config)

    async def _refilter(self, js: JetStreamContext, config: ConsumerConfig) -> None:
        """A durable made by an earlier release with other subjects, or a server-side max_deliver, is given
        this spec's config in place: it keeps its position (JetStream 2.10+ updates a consumer's filters and
        max_deliver; pull_subscribe only binds to what exists)."""
        try:
            existing = (await js.consumer_info(self.spec.stream, self.spec.durable)).config
        except NotFoundError:
            return
        if set(existing.filter_subjects or [existing.filter_subject]) != set(self.spec.subjects):
            log.info("consumer %s: reading %s from now on", self.spec.durable, ", ".join(self.spec.subjects))
        elif existing.max_deliver == config.max_deliver:
            return
        await js.add_consumer(self.spec.stream, config=dataclasses.replace(config, name=self.spec.durable))

    async def _handle(self, js: JetStreamContext, messages: list[Msg]) -> None:
        for message in messages:
            await self._deliver(js, message)

    async def _deliver(self, js: JetStreamContext, message: Msg) -> None:
        headers = message.headers or {}
        with consuming(message.subject, message_id=headers.get("Nats-Msg-Id", ""), headers=headers) as span:
            try:
                await self.handler(message)
            except Exception as error:
                span.record_exception(error)
                await self._retry_or_dead_letter(js, message, error)
                return
            await self._ack(message)
            CONSUMER_MESSAGES.labels(self.spec.durable, "acked").inc()

    async def _ack(self, message: Msg) -> None:
        await message.ack()
        self.failures.forget(message)

    async def _retry_or_dead_letter(self, js: JetStreamContext, message: Msg, error: Exception) -> None:
        """Try again later, with a growing delay. A dependency away: for as long as it takes. Another failure:
        after the last try (max_deliver > 0), dead-letter it."""
        if isinstance(error, DependencyUnavailable):
            delivered = message.metadata.num_delivered
            log.warning("handler waits on %s (delivery %d): %s", message.subject, delivered, error)
            await message.nak(delay=waiting_delay(delivered))
            CONSUMER_MESSAGES.labels(self.spec.durable, "retried").inc()
            return
        counted = self.spec.max_deliver > 0  # a message never given up on needs no count
        attempt = self.failures.count(message) if counted else message.metadata.num_delivered
        if 0 < self.spec.max_deliver <= attempt:
            await self._dead_letter(js, message, f"{error} (after {attempt} attempts)")
        else:
            log.warning("handler failed on %s (attempt %d): %s", message.subject, attempt, error)
            await message.nak(delay=retry_delay(attempt))
            CONSUMER_MESSAGES.labels(self.spec.durable, "retried").inc()

    async def _dead_letter(self, js: JetStreamContext, message: Msg, why: str) -> None:
        log.error("dead-lettering %s: %s", message.subject, why)
        await js.publish(f"athenaeum.dlq.{self.spec.durable}", message.data, headers=message.headers)
        await message.term()
        self.failures.forget(message)
        CONSUMER_MESSAGES.labels(self.spec.durable, "dead_lettered").inc()


async def _quietly(cleanup: Awaitable[object]) -> None:
    try:
        await cleanup
    except Exception:  # the connection is already gone: nothing left to clean
        log.debug("cleanup after a lost subscription failed", exc_info=True)


async def consume(link: NatsLink, spec: ConsumerSpec, handler: Handler) -> None:
    """Run a durable consumer until cancelled (for callers that need no handle on its health)."""
    await DurableConsumer(link, spec, handler).run()
