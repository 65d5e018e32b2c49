"""A per-process cache kept fresh by an event feed: what every such cache must do to never serve stale data.

The process that commits a change drops what it changed right after the commit (it reads its own writes), and
every process drops it when the change's event arrives on JetStream. The cache serves only while that feed's
follower is up (`trust_while`): while it is down every read goes to the database, and when it is back the
cache starts empty, so a change missed meanwhile is never served. A read that began before a drop is not kept
(`generation`). Subclasses hold the entries and a TTL that bounds staleness besides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FollowedCache:
    """The trust and generation bookkeeping; subclasses implement `_drop_all` and call `_usable`. One event loop."""

    def __init__(self) -> None:
        self._generation = 0
        self._trusted: Callable[[], bool] = lambda: True
        self._was_trusted = True
        self.hits = 0
        self.misses = 0

    def trust_while(self, follower_up: Callable[[], bool]) -> None:
        """Serve (and keep) entries only while `follower_up()`, the invalidation feed, says it is up."""
        self._trusted, self._was_trusted = follower_up, False
        self.clear()

    def _usable(self) -> bool:
        trusted = self._trusted()
        if trusted and not self._was_trusted:  # back after an outage: what it holds may have missed a change
            self.clear()
        self._was_trusted = trusted
        return trusted

    def generation(self) -> int:
        """Take before reading the database; a `put` with an older generation is refused (a drop came between)."""
        return self._generation

    def _current(self, generation: int) -> bool:
        return generation == self._generation and self._usable()

    def clear(self) -> None:
        """Everything may have changed: the next reads go to the database."""
        self._generation += 1
        self._drop_all()

    def _drop_all(self) -> None:
        raise NotImplementedError


class WholeValueCache(FollowedCache, Generic[T]):
    """One value read whole (a table that changes a few times a year), or nothing; `ttl_seconds=0` turns it off.
    Keep an immutable value: every reader gets the one kept."""

    def __init__(self, *, ttl_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl_seconds
        self._now = now
        self._value: T | None = None
        self._expires = 0.0

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self) -> T | None:
        """The value kept, or None on a miss."""
        if not self.enabled or not self._usable() or self._value is None or self._expires < self._now():
            self.misses += 1
            return None
        self.hits += 1
        return self._value

    def put(self, value: T, generation: int) -> None:
        if not self.enabled or not self._current(generation):
            return
        self._value = value
        self._expires = self._now() + self._ttl

    def _drop_all(self) -> None:
        """A change was committed (here, or announced by another process)."""
        self._value = None
