"""Followers: read a stream from a point onwards, for as long as the process lives, with no server-side
state (an ephemeral consumer, no acks), e.g. session revocations or cache invalidations. After a failure a
follower resumes right after the last message it handled, so it misses nothing published meanwhile.

Its messages are pushed to this process's own inbox, which no other service's NATS user may read. A pull
consumer's messages go to whoever fetches them: a service that may read the same stream (every service reads
the users stream) could have taken another's revocations, and a revoked session would have gone on working
there until its access token expired.

Another service may not publish to that inbox, but it can have the server deliver there: a consumer of its
own stream whose `deliver_subject` (or a fetch whose reply subject) is this inbox, which NATS's permissions
cannot refuse (they never see a request's body). So a follower takes only what its own consumer delivered
from the stream it reads, as the server's acknowledgement subject (`$JS.ACK.<stream>.<consumer>…`, which no
client writes) tells, on a subject of that stream: loans' user could otherwise sign sessions out in the
catalog with a "users" event of its own making.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.support.runtime.consumers import ConsumerHealth, ConsumerLoop, Subscription
from services.support.runtime.messaging import NatsLink, stream_of

log = logging.getLogger("athenaeum.consumers")


@dataclass(frozen=True, slots=True)
class StartAt:
    """Where a follower starts reading: new messages only, or everything since a moment."""

    since: datetime | None = None

    def config(self) -> ConsumerConfig:
        if self.since is None:
            return ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        return ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=self.since)


class MissedMessage(Exception):
    """A follower's consumer skipped a message (the client's queue overflowed): it subscribes again."""


class _Pushed:
    """A push subscription read as the loop reads a pull one: a message as it comes; after `timeout` without
    one, a timeout once the server says the consumer is still there (else NotFoundError: subscribe again)."""

    def __init__(self, subscription: JetStreamContext.PushSubscription) -> None:
        self._subscription = subscription
        self.consumer: str = subscription._consumer
        """The consumer the server made for it: the only one whose deliveries it takes."""

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:  # noqa: ASYNC109 - as the loop calls it
        try:
            return [await self._subscription.next_msg(timeout=timeout)]
        except nats.errors.TimeoutError:
            await self._subscription.consumer_info()
            raise

    async def unsubscribe(self) -> None:
        await self._subscription.unsubscribe()


class Follower(ConsumerLoop):
    """Reads `subject` of `stream` from `start` onwards, calling `handle(message)` in stream order. A message
    the handler cannot take is logged and skipped: a follower never stops for one bad message."""

    def __init__(
        self,
        link: NatsLink,
        *,
        name: str,
        stream: str,
        subject: str,
        handle: Callable[[Msg], None],
        start: StartAt = StartAt(),
    ) -> None:
        super().__init__(link, ConsumerHealth(name), batch=1)
        self.stream = stream
        self.subject = subject
        self.handle = handle
        self.start = start
        self._next_sequence: int | None = None
        """The stream sequence to resume from; None until the first subscription pinned it."""
        self._delivered = 0
        """The consumer sequence of the last message handled: the next must follow it, or one was lost."""
        self._consumer = ""
        """The name of the consumer of the current subscription."""

    async def _subscribe(self, js: JetStreamContext) -> Subscription:
        if self._next_sequence is None and self.start.since is None:
            # "New messages only", pinned to a sequence at once: a later resubscription then also gets
            # what was published while it was away.
            info = await js.stream_info(self.stream)
            self._next_sequence = info.state.last_seq + 1
        if self._next_sequence is None:
            config = self.start.config()
        else:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self._next_sequence)
        config.ack_policy = AckPolicy.NONE
        config.inactive_threshold = 30.0  # the server drops the consumer of a follower that went away
        config.mem_storage = True
        self._delivered = 0  # a new consumer counts from 1
        # Delivered to a new inbox of this connection's own (its NATS user's inbox prefix).
        pushed = _Pushed(await js.subscribe(self.subject, stream=self.stream, config=config, manual_ack=True))
        self._consumer = pushed.consumer
        return pushed

    def _is_ours(self, message: Msg) -> bool:
        """Delivered by this follower's own consumer from its stream, on a subject of that stream."""
        try:
            metadata = message.metadata
        except Exception:  # not a JetStream delivery at all
            return False
        return (
            metadata.stream == self.stream
            and metadata.consumer == self._consumer
            and stream_of(message.subject) in (self.stream, None)
        )

    async def _handle(self, js: JetStreamContext, messages: list[Msg]) -> None:
        for message in messages:
            if not self._is_ours(message):
                log.error(
                    "follower %s refused a message another consumer delivered to its inbox (%s, reply %s)",
                    self.health.name,
                    message.subject,
                    message.reply,
                )
                continue
            if message.metadata.sequence.consumer != self._delivered + 1:  # dropped on the way (a full queue)
                raise MissedMessage(f"{self.health.name} missed a message; reading again from the last it handled")
            self._delivered += 1
            try:
                self.handle(message)
            except Exception:
                log.exception(
                    "follower %s skipped a message it could not handle (%s)", self.health.name, message.subject
                )
            self._next_sequence = message.metadata.sequence.stream + 1
