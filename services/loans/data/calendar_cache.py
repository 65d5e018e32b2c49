"""The library's closed days kept per process, as the circulation rules are (data/rule_cache.py): every issue,
renewal and hold put on the shelf reads them, and they change a few times a year.

Closed days are added and removed only through this service's own RPCs, each committing a ClosedDayChanged
outbox row: the process that made the change drops the cache right after its commit (data/unit_of_work.py),
every loans process when the event arrives on JetStream (the follower below). Trust while that feed is up and
the generations are FollowedCache's; a TTL (the rules cache's) bounds staleness besides.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date

from nats.aio.msg import Msg

from services.support.runtime.followed_cache import FollowedCache
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, stream_name, subject

CLOSED_DAY_CHANGED = subject("loans", "closed_day_changed")


class ClosedDayCache(FollowedCache):
    """Every closed day, or nothing. `ttl_seconds=0` turns it off. Not thread-safe (one event loop)."""

    def __init__(self, *, ttl_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl_seconds
        self._now = now
        self._days: frozenset[date] | None = None
        self._expires = 0.0

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self) -> frozenset[date] | None:
        """The closed dates (immutable, shared), or None on a miss."""
        if not self.enabled or not self._usable() or self._days is None or self._expires < self._now():
            self.misses += 1
            return None
        self.hits += 1
        return self._days

    def put(self, days: Iterable[date], generation: int) -> None:
        if not self.enabled or not self._current(generation):
            return
        self._days = frozenset(days)
        self._expires = self._now() + self._ttl

    def _drop_all(self) -> None:
        """A day was closed or opened again (here, or announced by another process)."""
        self._days = None


def invalidate_on_message(cache: ClosedDayCache, message: Msg) -> None:
    if message.subject == CLOSED_DAY_CHANGED:
        cache.clear()


def closed_day_cache_follower(cache: ClosedDayCache, link: NatsLink) -> Follower:
    """Follows the calendar's changes from now on, through NATS restarts; the cache serves only while it is up.
    Run it in the background: without it loans still serves, reading the closed days from the database."""
    follower = Follower(
        link,
        name="closed-day-cache-invalidation",
        stream=stream_name("loans"),
        subject=CLOSED_DAY_CHANGED,
        handle=lambda message: invalidate_on_message(cache, message),
    )
    cache.trust_while(follower.health.is_up)
    return follower
