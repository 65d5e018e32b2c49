"""JetStream in: loans events become notifications (many at a time, one transaction per batch), users
events keep the recipients projection (in order) and bring the welcome and security notices, and a book
added to the catalog is announced to the readers who follow one of its authors.

An event whose recipient is not known here is told once the users service has said who they are (and the
projection keeps it); it is retried later while that service cannot be asked (however long: a wait does not
use up the message's tries), and dropped when it has no such account. One that does not decode goes to the
dead-letter subject at once (no retry will make it readable)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.notifications.api import decoding, decoding_catalog, decoding_users
from services.notifications.api.batching import GroupCommit
from services.notifications.app import announcing, projection
from services.notifications.app.notifying import TakenIn
from services.notifications.app.ports import NotificationsUnitOfWork
from services.notifications.domain.occurrences import Intake
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.errors import DependencyUnavailable
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name
from services.support.runtime.telemetry import CONSUMER_MESSAGES
from services.support.runtime.tracing import trace_headers

log = logging.getLogger("athenaeum.notifications.consumers")
T = TypeVar("T")
PROMPT_SECONDS = 0.005

LOANS = ConsumerSpec(stream=stream_name("loans"), durable="notifications-loans", filter_subject="athenaeum.loans.>")
USERS = ConsumerSpec(
    stream=stream_name("users"), durable="notifications-users", filter_subject=decoding_users.USERS_EVENTS_READ
)
CATALOG = ConsumerSpec(
    stream=stream_name("catalog"),
    durable="notifications-catalog",
    filter_subject=decoding_catalog.CATALOG_EVENTS_READ,
)


class RecipientNotKnownYet(DependencyUnavailable):
    """The event is about a user this service has not heard of yet, and the users service could not be asked:
    try again a little later, for as long as it takes (a wait, not one of the message's tries)."""


class PromptSubscription:
    """A pull subscription whose fetch returns as soon as a message is there, with whatever else is waiting
    right then. (nats-py's fetch of a batch, once the server had nothing, waits out its whole timeout for the
    batch to fill: up to a second added to every notification of a quiet mesh.)"""

    def __init__(self, inner: JetStreamContext.PullSubscription) -> None:
        self._inner = inner

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Msg]:  # noqa: ASYNC109  (its signature)
        first = await self._inner.fetch(1, timeout=timeout)
        if batch <= 1:
            return first
        try:  # the server sends what it has at once, then says "no more messages"
            more = await self._inner.fetch(batch - 1, timeout=PROMPT_SECONDS)
        except (TimeoutError, nats.errors.TimeoutError):
            more = []
        return first + more

    async def unsubscribe(self) -> None:
        await self._inner.unsubscribe()


class ConcurrentConsumer(DurableConsumer):
    """A durable consumer that handles the messages of one fetch concurrently (each still acked after its
    own commit), so that they can share transactions through a GroupCommit."""

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        return PromptSubscription(await super()._subscribe(js))  # type: ignore[return-value]

    async def _handle(self, js: JetStreamContext, messages: list[Msg]) -> None:
        await asyncio.gather(*(self._deliver(js, message) for message in messages))


class ProjectionConsumer(DurableConsumer):
    """The users events, in order. When the projection is empty (a new database) the durable consumer is
    dropped before the first subscription, so it is made again from the start of the stream: the
    projection is rebuilt from the events."""

    def __init__(self, link: NatsLink, spec: ConsumerSpec, handler: Callable[[Msg], Awaitable[None]], *,
                 is_empty: Callable[[], Awaitable[bool]]) -> None:  # fmt: skip
        super().__init__(link, spec, handler)
        self._is_empty = is_empty
        self._checked = False

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        if not self._checked:
            if await self._is_empty():
                try:
                    await js.delete_consumer(self.spec.stream, self.spec.durable)
                    log.info("recipients projection is empty: replaying the users stream from the start")
                except Exception:  # no such consumer yet: it starts from the beginning anyway
                    log.debug("no users consumer to reset", exc_info=True)
            self._checked = True
        return PromptSubscription(await super()._subscribe(js))  # type: ignore[return-value]


async def dead_letter(link: NatsLink, durable: str, message: Msg, why: str) -> None:
    log.error("dead-lettering an undecodable %s: %s", message.subject, why)
    await link.jetstream().publish(f"athenaeum.dlq.{durable}", message.data, headers=message.headers)
    CONSUMER_MESSAGES.labels(durable, "dead_lettered").inc()


class _Handler:
    """What the handlers of every stream share: the batch they hand intakes to, and where a message that does
    not decode goes."""

    def __init__(self, link: NatsLink, intake: GroupCommit[Intake, TakenIn], *, durable: str) -> None:
        self._link = link
        self._intake = intake
        self._durable = durable

    async def _decoded(self, message: Msg, decode: Callable[..., T]) -> T | None:
        """`decode(subject, data, trace=...)`; None when the message does not decode (dead-lettered at once: no
        retry will make it readable) or says nothing to act on."""
        try:
            return decode(message.subject, message.data, trace=trace_headers())
        except (DecodeError, ValueError) as error:
            await dead_letter(self._link, self._durable, message, str(error))
            return None


class LoansHandler(_Handler):
    """Each loans event that concerns a person -> an Intake, handed to the batch of the moment."""

    def __init__(
        self,
        link: NatsLink,
        intake: GroupCommit[Intake, TakenIn],
        *,
        decoder: decoding.LoansDecoder,
        durable: str = LOANS.durable,
    ) -> None:
        super().__init__(link, intake, durable=durable)
        self._decoder = decoder

    async def __call__(self, message: Msg) -> None:
        # None: an event nobody needs telling about (a rule changed, a fine paid)
        if (intake := await self._decoded(message, self._decoder.intake)) is not None:
            await tell(self._intake, intake, message.subject)


async def tell(intake: GroupCommit[Intake, TakenIn], told: Intake, subject: str) -> None:
    """Hand `told` to the batch of the moment: retried later when its recipient is not known here yet (the
    users service could not be asked), dropped when the users service has no account of them."""
    taken = await intake.submit(told)
    if told.event_id in taken.no_account:
        log.warning("dropped %s %s: the users service has no account of its recipient", subject, told.event_id)
    elif told.event_id in taken.waiting:
        raise RecipientNotKnownYet(f"event {told.event_id}: its recipient is not known here yet")


class UsersHandler(_Handler):
    """Users events: the projection first, then what the person should be told (welcome, security)."""

    def __init__(
        self,
        link: NatsLink,
        intake: GroupCommit[Intake, TakenIn],
        *,
        uow: Callable[[], NotificationsUnitOfWork],
        durable: str = USERS.durable,
    ) -> None:
        super().__init__(link, intake, durable=durable)
        self._uow = uow

    async def __call__(self, message: Msg) -> None:
        if (update := await self._decoded(message, decoding_users.users_update)) is None:
            return
        if update.profile is not None:
            # a changed address is told to the one the projection holds, so before the projection takes the new
            notices = await projection.address_notices(update.profile, uow=self._uow())
            if notices is not None:
                await tell(self._intake, notices, message.subject)
            await projection.apply_profile(update.profile, uow=self._uow())
        if update.status is not None:
            await projection.apply_status(update.status, uow=self._uow())
        if update.intake is not None:
            await tell(self._intake, update.intake, message.subject)


class CatalogHandler(_Handler):
    """A new book: an announcement to each reader who follows one of its authors, handed to the batch of the
    moment as one intake (all of them stored in one transaction, or none)."""

    def __init__(
        self,
        link: NatsLink,
        intake: GroupCommit[Intake, TakenIn],
        *,
        uow: Callable[[], NotificationsUnitOfWork],
        durable: str = CATALOG.durable,
    ) -> None:
        super().__init__(link, intake, durable=durable)
        self._uow = uow

    async def __call__(self, message: Msg) -> None:
        if (book := await self._decoded(message, decoding_catalog.new_book)) is None:
            return
        told = await announcing.announcements(book, uow=self._uow())
        if told is not None:
            await tell(self._intake, told, message.subject)
