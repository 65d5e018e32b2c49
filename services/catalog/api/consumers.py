"""JetStream handlers of the catalog: its own change events drop stale books from GetBook's cache."""

from __future__ import annotations

import asyncio

from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from athenaeum.catalog.v1 import events_pb2
from services.catalog.api.cache import BookCache
from services.catalog.api.events import book_of
from services.support.runtime.messaging import NatsLink, stream_name, subject

_PAYLOADS: dict[str, type[Message]] = {
    subject("catalog", name): cls
    for name, cls in (
        ("book_created", events_pb2.BookCreated),
        ("book_updated", events_pb2.BookUpdated),
        ("book_deleted", events_pb2.BookDeleted),
        ("copy_created", events_pb2.CopyCreated),
        ("copy_updated", events_pb2.CopyUpdated),
        ("copy_deleted", events_pb2.CopyDeleted),
        ("copy_status_changed", events_pb2.CopyStatusChanged),
    )
}


def invalidate_on_message(cache: BookCache, message: Msg) -> None:
    """Drops the book a catalog event on the wire is about."""
    payload_type = _PAYLOADS.get(message.subject)
    if payload_type is None:
        return
    if (book_id := book_of(payload_type.FromString(message.data))) is not None:
        cache.invalidate([book_id])


async def follow_changes(cache: BookCache, link: NatsLink) -> None:
    """Background task: invalidate on every catalog event from now on (ordered consumer, no ack, no state)."""
    if not cache.enabled:
        return
    await link.wait_connected()

    async def on_message(message: Msg) -> None:
        invalidate_on_message(cache, message)

    subscription = await link.jetstream().subscribe(
        "athenaeum.catalog.>",
        stream=stream_name("catalog"),
        cb=on_message,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
        idle_heartbeat=5.0,
    )
    cache.clear()  # anything read before the subscription existed may have missed an event
    try:
        await asyncio.Event().wait()
    finally:
        await subscription.unsubscribe()
