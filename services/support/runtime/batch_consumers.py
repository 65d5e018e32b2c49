"""Durable consumers that hand whole fetches to their handler: one transaction for many messages (the events
service's audit log), with the retries and dead-lettering of DurableConsumer (consumers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.support.runtime.consumers import ConsumerHealth, DurableConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink
from services.support.runtime.redelivery import Failures
from services.support.runtime.telemetry import CONSUMER_MESSAGES
from services.support.runtime.tracing import consuming

BatchHandler = Callable[[list[Msg]], Awaitable[Sequence[Msg]]]
"""Handles a whole fetch (one transaction for many messages); returns the messages it could not read."""


class BatchConsumer(DurableConsumer):
    """A durable consumer that hands whole fetches to its handler: one transaction for many messages.
    Messages are acked once the handler returns; those it could not read are dead-lettered at once; when it
    raises, the whole fetch is retried (or dead-lettered after the last delivery, unless max_deliver is -1:
    retried until it works, for work that must not be lost)."""

    def __init__(self, link: NatsLink, spec: ConsumerSpec, handler: BatchHandler, *, name: str = "",
                 failures: Failures | None = None) -> None:  # fmt: skip
        # Its own health only: one under the durable's name too would report a consumer down that never ran.
        super().__init__(link, spec, self._unused, failures=failures, health=ConsumerHealth(name or spec.durable))
        self.batch_handler = handler

    @staticmethod
    async def _unused(message: Msg) -> None:
        raise NotImplementedError  # whole fetches go to the batch handler

    async def _handle(self, js: JetStreamContext, messages: list[Msg]) -> None:
        if not messages:
            return
        first = messages[0]
        message_id = (first.headers or {}).get("Nats-Msg-Id", "")
        with consuming(first.subject, message_id=message_id, headers=first.headers) as span:
            try:
                unreadable = await self.batch_handler(messages)
            except Exception as error:
                span.record_exception(error)
                for message in messages:
                    await self._retry_or_dead_letter(js, message, error)
                return
        dead = {id(message) for message in unreadable}
        for message in messages:
            if id(message) in dead:
                await self._dead_letter(js, message, "unreadable")
            else:
                await self._ack(message)
        CONSUMER_MESSAGES.labels(self.spec.durable, "acked").inc(len(messages) - len(dead))


async def consume_batches(link: NatsLink, spec: ConsumerSpec, handler: BatchHandler, *, workers: int = 1) -> None:
    """`workers` pull subscriptions on one durable consumer, each handing whole fetches to `handler`."""
    failures = Failures()  # a message retried may come to another worker
    consumers = [
        BatchConsumer(link, spec, handler, name=f"{spec.durable}#{n}", failures=failures) for n in range(workers)
    ]
    await asyncio.gather(*(consumer.run() for consumer in consumers))
