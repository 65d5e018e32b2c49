"""A per-process cache of SearchBooks answers, kept serialized, as Evergreen keeps its search results in
memcached: a library's catalogue changes far more slowly than it is searched, and the searches people run most
(a new title, a course's reading list, the front page's links) repeat. A hit skips both statements and the
conversion (a search costs the catalog and Postgres ~3 ms of CPU; a hit, about what a cached GetBook does).

It stays right by the catalog's events, like GetBook's cache (runtime/followed_cache.py: dropped after this
process's own commits and when the event arrives; serving only while the feed is up; a TTL besides):
- a book created, changed, deleted or imported may change what any search matches: every answer goes;
- a copy's change moves only its book's counts: the answers that show that book go, and every answer of a
  search for available books only (whether a book has an available copy decides whether it matches).
A search that read the database while such a drop went by is not kept (the drops since its start are checked
against the answer it got: a check-out of another book does not keep a popular search out of the cache).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.followed_cache import FollowedCache

EVERYTHING = None
"""A drop of every answer (a book's change: any search's matches may differ)."""
_DROPS_KEPT = 1024
"""Drops remembered for the searches still reading; one that began before all of these is not kept."""
_ENTRY_OVERHEAD = 200
"""Bytes an entry costs besides its key and answer (its tuple, the index's sets), counted against the bound."""


@dataclass(frozen=True, slots=True)
class _Entry:
    expires: float
    answer: bytes
    books: frozenset[uuid.UUID]
    on_availability: bool

    def size(self, key: bytes) -> int:
        return len(key) + len(self.answer) + _ENTRY_OVERHEAD


class SearchCache(FollowedCache):
    """LRU of serialized SearchBooks answers by their request, bounded in bytes, with a TTL. `max_bytes=0` turns
    it off. Not thread-safe (one event loop)."""

    def __init__(self, *, max_bytes: int, ttl_seconds: float = 30.0, now: Callable[[], float] = time.monotonic):
        super().__init__()
        self._max_bytes = max_bytes
        self._ttl = ttl_seconds
        self._now = now
        self._bytes = 0
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._showing: dict[uuid.UUID, set[bytes]] = {}
        """The keys of the answers that show each book."""
        self._on_availability: set[bytes] = set()
        self._drops: deque[tuple[int, frozenset[uuid.UUID] | None]] = deque(maxlen=_DROPS_KEPT)
        """(the generation a drop made, the books it was about or EVERYTHING), oldest first."""

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0

    @staticmethod
    def key(request: catalog_pb2.SearchBooksRequest) -> bytes:
        """The request's bytes: the same search, filters, facets, page size and token give the same key."""
        return request.SerializeToString(deterministic=True)

    def get(self, key: bytes) -> catalog_pb2.SearchBooksResponse | None:
        if not self.enabled or not self._usable():
            self.misses += 1
            return None
        entry = self._entries.get(key)
        if entry is None or entry.expires < self._now():
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return catalog_pb2.SearchBooksResponse.FromString(entry.answer)

    def put(
        self,
        key: bytes,
        answer: catalog_pb2.SearchBooksResponse,
        *,
        books: Iterable[uuid.UUID],
        on_availability: bool,
        generation: int,
    ) -> None:
        """Keeps an answer read from the database after `generation()` returned `generation`: `books` are the ones
        it shows, `on_availability` whether what it matched depends on copies being available."""
        if not self.enabled or not self._usable():
            return
        entry = _Entry(self._now() + self._ttl, answer.SerializeToString(), frozenset(books), on_availability)
        if entry.size(key) > self._max_bytes or self._dropped_since(generation, entry):
            return
        self._remove(key)
        self._entries[key] = entry
        self._bytes += entry.size(key)
        for book in entry.books:
            self._showing.setdefault(book, set()).add(key)
        if entry.on_availability:
            self._on_availability.add(key)
        while self._bytes > self._max_bytes:
            self._remove(next(iter(self._entries)))

    def invalidate(self, books: Iterable[uuid.UUID], *, matches_changed: bool) -> None:
        """Drops what a change to these books makes stale: every answer when what searches match may have
        changed (a book's change), else the answers showing them and those that depend on availability."""
        self._generation += 1
        if matches_changed:
            self._drop_all()
            return
        changed = frozenset(books)
        self._drops.append((self._generation, changed))
        stale = set(self._on_availability)
        for book in changed:
            stale.update(self._showing.get(book, ()))
        for key in stale:
            self._remove(key)

    def _dropped_since(self, generation: int, entry: _Entry) -> bool:
        """Whether a drop made after `generation` would have dropped `entry` (or may have: too old to tell)."""
        if generation == self._generation:
            return False
        if not self._drops or self._drops[0][0] > generation + 1:
            return True  # drops made since then were forgotten
        for made, books in reversed(self._drops):
            if made <= generation:
                break
            if books is EVERYTHING or entry.on_availability or not entry.books.isdisjoint(books):
                return True
        return False

    def _remove(self, key: bytes) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry.size(key)
        self._on_availability.discard(key)
        for book in entry.books:
            showing = self._showing[book]
            showing.discard(key)
            if not showing:
                del self._showing[book]

    def _drop_all(self) -> None:
        self._drops.append((self._generation, EVERYTHING))  # a book's change, or clear(): the feed was down
        self._entries.clear()
        self._showing.clear()
        self._on_availability.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
