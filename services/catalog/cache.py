"""A per-process cache of GetBook answers, invalidated by the catalog's own change events.

Every change to a book or to one of its copies emits an event (the outbox). This process drops the book
right after its own commit (so a client reads its writes), and every process drops it when the event
arrives on JetStream (an ordered, ephemeral consumer per process, delivering new events only). A TTL
bounds staleness should that subscription be away.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from athenaeum.catalog.v1 import catalog_pb2, events_pb2
from services.catalog.events import book_of
from services.support.runtime.messaging import NatsLink, stream_name

log = logging.getLogger("athenaeum.catalog.cache")

_PAYLOADS: dict[str, type[Message]] = {
    f"athenaeum.catalog.{name}.v1": cls
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


class BookCache:
    """LRU of Book protos with a TTL. `capacity=0` turns it off. Not thread-safe (one event loop)."""

    def __init__(self, *, capacity: int, ttl_seconds: float = 30.0, now: Callable[[], float] = time.monotonic):
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._now = now
        self._entries: OrderedDict[uuid.UUID, tuple[float, catalog_pb2.Book]] = OrderedDict()
        self._generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._capacity > 0

    def get(self, book_id: uuid.UUID) -> catalog_pb2.Book | None:
        entry = self._entries.get(book_id)
        if entry is None or entry[0] < self._now():
            self.misses += 1
            return None
        self._entries.move_to_end(book_id)
        self.hits += 1
        return entry[1]

    def generation(self) -> int:
        """Take before reading the database; `put` refuses the result if anything was invalidated since."""
        return self._generation

    def put(self, book_id: uuid.UUID, book: catalog_pb2.Book, generation: int) -> None:
        if not self._capacity or generation != self._generation:
            return
        self._entries[book_id] = (self._now() + self._ttl, book)
        self._entries.move_to_end(book_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def invalidate(self, book_ids: list[uuid.UUID] | tuple[uuid.UUID, ...]) -> None:
        self._generation += 1
        for book_id in book_ids:
            self._entries.pop(book_id, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def book_id_of(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(name.removeprefix("books/"))
    except ValueError:
        return None


def invalidate_on_message(cache: BookCache, message: Msg) -> None:
    """Drops the book a catalog event on the wire is about."""
    payload_type = _PAYLOADS.get(message.subject)
    if payload_type is None:
        return
    if (book_id := book_id_of(book_of(payload_type.FromString(message.data)))) is not None:
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
