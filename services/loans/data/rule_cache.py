"""The circulation rules matrix kept per process: every issue reads it twice, and it changes rarely.

The rules are edited only through this service's own RPCs, and every edit commits a CirculationRuleChanged
outbox row. The process that made the edit drops the matrix right after its commit (data/unit_of_work.py), so its next
issue reads the edit; every loans process drops it when the event arrives on JetStream (data/rule_feed.py).
The cache serves only while that follower is up (`trust_while`): while it is down every read goes to the
database, and when it is back the cache starts empty, so an edit missed meanwhile is never served. A short
TTL bounds staleness besides. A read that began before an invalidation is not kept (`generation`).

What an issue may see: the matrix as committed, or, in another process, as it was up to the event's delivery
(milliseconds; at most the TTL if events were lost). Reading the table inside the issue's transaction gave
no stronger guarantee: the rules are not locked, so an edit committed during an issue was not seen either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from services.loans.domain.rules import CirculationRule


class RuleCache:
    """The whole matrix, or nothing. `ttl_seconds=0` turns it off. Not thread-safe (one event loop)."""

    def __init__(self, *, ttl_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._now = now
        self._rules: tuple[CirculationRule, ...] | None = None
        self._expires = 0.0
        self._generation = 0
        self._trusted: Callable[[], bool] = lambda: True
        self._was_trusted = True
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def trust_while(self, follower_up: Callable[[], bool]) -> None:
        """Serve (and keep) the matrix only while `follower_up()`, the invalidation feed, says it is up."""
        self._trusted, self._was_trusted = follower_up, False
        self.clear()

    def _usable(self) -> bool:
        trusted = self._trusted()
        if trusted and not self._was_trusted:  # back after an outage: what it holds may have missed an edit
            self.clear()
        self._was_trusted = trusted
        return trusted

    def get(self) -> list[CirculationRule] | None:
        """Fresh copies of the cached rules (callers may not change the shared ones), or None on a miss."""
        if not self.enabled or not self._usable() or self._rules is None or self._expires < self._now():
            self.misses += 1
            return None
        self.hits += 1
        return [
            CirculationRule(id=r.id, terms=r.terms, created_at=r.created_at, updated_at=r.updated_at, version=r.version)
            for r in self._rules
        ]

    def generation(self) -> int:
        """Take before reading the database; `put` refuses the result if the matrix was dropped since."""
        return self._generation

    def put(self, rules: Sequence[CirculationRule], generation: int) -> None:
        if not self.enabled or generation != self._generation or not self._usable():
            return
        self._rules = tuple(
            CirculationRule(id=r.id, terms=r.terms, created_at=r.created_at, updated_at=r.updated_at, version=r.version)
            for r in rules
        )
        self._expires = self._now() + self._ttl

    def clear(self) -> None:
        """An edit was committed (here, or announced by another process): the next read goes to the database."""
        self._generation += 1
        self._rules = None
