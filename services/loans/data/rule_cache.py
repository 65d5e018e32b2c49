"""The circulation rules matrix kept per process: every issue reads it twice, and it changes rarely.

The rules are edited only through this service's own RPCs, and every edit commits a CirculationRuleChanged
outbox row. The process that made the edit drops the matrix right after its commit (data/unit_of_work.py);
every loans process drops it when the event arrives on JetStream (data/rule_feed.py). Trust while that feed
is up and the generations are FollowedCache's (runtime/followed_cache.py); a short TTL bounds staleness besides.

What an issue may see: the matrix as committed, or, in another process, as it was up to the event's delivery
(milliseconds; at most the TTL if events were lost). Reading the table inside the issue's transaction gave
no stronger guarantee: the rules are not locked, so an edit committed during an issue was not seen either.
A rename of an item type is the exception (finding NF1): the matrix is kept with the renames it had followed,
and a copy whose type's rename it has not seen is matched against the table, never the cached matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.loans.domain.rule_keys import RenamesFollowed
from services.loans.domain.rules import CirculationRule
from services.support.runtime.followed_cache import WholeValueCache

RuleView = tuple[tuple[CirculationRule, ...], RenamesFollowed]


class RuleCache(WholeValueCache[RuleView]):
    """The whole matrix (with the item type renames it has followed, read with it), or nothing. `ttl_seconds=0`
    turns it off. Not thread-safe (one event loop)."""

    def get(self) -> list[CirculationRule] | None:  # type: ignore[override]
        """Fresh copies of the cached rules (callers may not change the shared ones), or None on a miss."""
        view = self.view()
        return None if view is None else view[0]

    def view(self) -> tuple[list[CirculationRule], RenamesFollowed] | None:
        """The cached rules (fresh copies) and the renames they had followed when read, or None on a miss."""
        view = super().get()
        return None if view is None else (_copies(view[0]), view[1])

    def put(  # type: ignore[override]
        self, rules: Sequence[CirculationRule], generation: int, renames: RenamesFollowed | None = None
    ) -> None:
        super().put((tuple(_copies(rules)), renames or RenamesFollowed()), generation)


def _copies(rules: Iterable[CirculationRule]) -> list[CirculationRule]:
    return [
        CirculationRule(id=r.id, terms=r.terms, created_at=r.created_at, updated_at=r.updated_at, version=r.version)
        for r in rules
    ]
