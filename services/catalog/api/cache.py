"""A per-process cache of GetBook answers, kept serialized: a hit parses a few hundred bytes (microseconds)
and skips the database and the conversion. A Book message object holds ~1.7 KiB of arena memory against ~0.4
KiB as bytes: 17 MiB against 5 for the 10,000 books of the demo library (bench/README.md).

Every change to a book or to one of its copies emits an event (the outbox). This process drops the book
right after its own commit (so a client reads its writes: main.py), and every process drops it when the
event arrives on JetStream (api/consumers.py). The cache serves only while that follower is up (`trust_while`):
while it is down (NATS restarting) every read goes to the database, and when it is back the cache starts
empty, so no change missed meanwhile is ever served stale. A TTL bounds staleness besides.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.followed_cache import FollowedCache


class BookCache(FollowedCache):
    """LRU of serialized Books with a TTL. `capacity=0` turns it off. Not thread-safe (one event loop)."""

    def __init__(self, *, capacity: int, ttl_seconds: float = 30.0, now: Callable[[], float] = time.monotonic):
        super().__init__()
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._now = now
        self._entries: OrderedDict[uuid.UUID, tuple[float, bytes]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._capacity > 0

    def get(self, book_id: uuid.UUID) -> catalog_pb2.Book | None:
        if not self._usable():
            self.misses += 1
            return None
        entry = self._entries.get(book_id)
        if entry is None or entry[0] < self._now():
            self.misses += 1
            return None
        self._entries.move_to_end(book_id)
        self.hits += 1
        return catalog_pb2.Book.FromString(entry[1])

    def put(self, book_id: uuid.UUID, book: catalog_pb2.Book, generation: int) -> None:
        if not self._capacity or not self._current(generation):
            return
        self._entries[book_id] = (self._now() + self._ttl, book.SerializeToString())
        self._entries.move_to_end(book_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def invalidate(self, book_ids: Iterable[uuid.UUID]) -> None:
        self._generation += 1
        for book_id in book_ids:
            self._entries.pop(book_id, None)

    def _drop_all(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
