"""The library's closed days kept per process, as the circulation rules are (data/rule_cache.py): every issue,
renewal and hold put on the shelf reads them, and they change a few times a year.

Closed days are added and removed only through this service's own RPCs, each committing a ClosedDayChanged
outbox row: the process that made the change drops the cache right after its commit (data/unit_of_work.py),
every loans process when the event arrives on JetStream (the follower below). Trust while that feed is up and
the generations are FollowedCache's; a TTL (the rules cache's) bounds staleness besides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from nats.aio.msg import Msg

from services.loans.data.rule_feed import dropped_by, dropping_follower
from services.support.runtime.followed_cache import WholeValueCache
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, subject

CLOSED_DAY_CHANGED = subject("loans", "closed_day_changed")


class ClosedDayCache(WholeValueCache[frozenset[date]]):
    """Every closed day, or nothing. `ttl_seconds=0` turns it off. Not thread-safe (one event loop)."""

    def put(self, days: Iterable[date], generation: int) -> None:
        super().put(frozenset(days), generation)


def invalidate_on_message(cache: ClosedDayCache, message: Msg) -> None:
    dropped_by(CLOSED_DAY_CHANGED, cache, message)


def closed_day_cache_follower(cache: ClosedDayCache, link: NatsLink) -> Follower:
    """Follows the calendar's changes from now on, through NATS restarts; the cache serves only while it is up.
    Run it in the background: without it loans still serves, reading the closed days from the database."""
    return dropping_follower(cache, link, name="closed-day-cache-invalidation", on=CLOSED_DAY_CHANGED)
