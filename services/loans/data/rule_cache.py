"""The circulation rules matrix kept per process: every issue reads it twice, and it changes rarely.

The rules are edited only through this service's own RPCs, and every edit commits a CirculationRuleChanged
outbox row. The process that made the edit drops the matrix right after its commit (data/unit_of_work.py);
every loans process drops it when the event arrives on JetStream (data/rule_feed.py). Trust while that feed
is up and the generations are FollowedCache's (runtime/followed_cache.py); a short TTL bounds staleness besides.

What an issue may see: the matrix as committed, or, in another process, as it was up to the event's delivery
(milliseconds; at most the TTL if events were lost). Reading the table inside the issue's transaction gave
no stronger guarantee: the rules are not locked, so an edit committed during an issue was not seen either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from services.loans.domain.rules import CirculationRule
from services.support.runtime.followed_cache import FollowedCache


class RuleCache(FollowedCache):
    """The whole matrix, or nothing. `ttl_seconds=0` turns it off. Not thread-safe (one event loop)."""

    def __init__(self, *, ttl_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl_seconds
        self._now = now
        self._rules: tuple[CirculationRule, ...] | None = None
        self._expires = 0.0

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self) -> list[CirculationRule] | None:
        """Fresh copies of the cached rules (callers may not change the shared ones), or None on a miss."""
        if not self.enabled or not self._usable() or self._rules is None or self._expires < self._now():
            self.misses += 1
            return None
        self.hits += 1
        return _copies(self._rules)

    def put(self, rules: Sequence[CirculationRule], generation: int) -> None:
        if not self.enabled or not self._current(generation):
            return
        self._rules = tuple(_copies(rules))
        self._expires = self._now() + self._ttl

    def _drop_all(self) -> None:
        """An edit was committed (here, or announced by another process)."""
        self._rules = None


def _copies(rules: Iterable[CirculationRule]) -> list[CirculationRule]:
    return [
        CirculationRule(id=r.id, terms=r.terms, created_at=r.created_at, updated_at=r.updated_at, version=r.version)
        for r in rules
    ]
