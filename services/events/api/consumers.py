"""The JetStream consumers: the workers that store accepted batches, and the audit trail of every context.

Both take whole fetches: one transaction (one COPY) for many messages, acknowledged after its commit. A
message that cannot be read is dead-lettered; a failure to store (Postgres away) retries the fetch later,
forever for accepted batches, which must not be lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from nats.aio.msg import Msg

from services.events.api.audit import Unreadable, audit_of
from services.events.app.ports import EventsUnitOfWork
from services.events.app.recording import store_accepted, store_events
from services.events.domain.model import AcceptedBatch, EventRecord
from services.support.runtime.batch_consumers import BatchHandler
from services.support.runtime.clock import Clock
from services.support.runtime.messaging import CONTEXTS, ConsumerSpec, stream_name

log = logging.getLogger("athenaeum.events.consumers")

ReadBatch = Callable[[bytes, Mapping[str, str]], AcceptedBatch]
AUDIT_DURABLE = "events-audit"
AUDITED_CONTEXTS = tuple(context for context in CONTEXTS if context != "events")


def audit_specs(*, batch: int, linger: float = 0.0) -> list[ConsumerSpec]:
    """One durable consumer per context's stream, from its first message: every domain event is audited."""
    return [
        ConsumerSpec(
            stream_name(context),
            AUDIT_DURABLE,
            f"athenaeum.{context}.>",
            max_deliver=10,
            batch=batch,
            linger_seconds=linger,
        )
        for context in AUDITED_CONTEXTS
    ]


def storing(read: ReadBatch, uow: Callable[[], EventsUnitOfWork]) -> BatchHandler:
    """Stores the events of accepted batches (the journal's wire format read by `read`)."""

    async def handle(messages: list[Msg]) -> Sequence[Msg]:
        batches: list[AcceptedBatch] = []
        read_ones: list[Msg] = []
        unreadable = []
        for message in messages:
            try:
                batches.append(read(message.data, message.headers or {}))
            except (ValueError, KeyError) as error:
                log.error("an ingested batch cannot be read: %s", error)
                unreadable.append(message)
            else:
                read_ones.append(message)
        for index in await store_accepted(batches, uow=uow()):
            log.error("an ingested batch holds an event that cannot be stored (a name, a category)")
            unreadable.append(read_ones[index])
        return unreadable

    return handle


def auditing(uow: Callable[[], EventsUnitOfWork], clock: Clock) -> BatchHandler:
    """Stores the AUDIT record of every domain event."""

    async def handle(messages: list[Msg]) -> Sequence[Msg]:
        now = clock.now()
        records: list[EventRecord] = []
        unreadable = []
        for message in messages:
            try:
                records.append(audit_of(message.subject, message.data, message.headers, now=now))
            except Unreadable as error:
                log.error("not a domain event: %s", error)
                unreadable.append(message)
        await store_events(records, uow=uow())
        return unreadable

    return handle
