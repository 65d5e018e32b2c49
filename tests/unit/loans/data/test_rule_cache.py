"""The per-process rules cache: served while fresh and trusted, dropped on an edit, never refilled with a
read that began before an edit, and bypassed while its invalidation feed is down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.loans.data.rule_cache import RuleCache
from services.loans.domain.rules import CirculationRule, RuleTerms

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _rules(days: int) -> list[CirculationRule]:
    return [CirculationRule(uuid.uuid4(), RuleTerms("*", "*", loan_period_days=days), NOW, NOW)]


def test_a_kept_matrix_is_served_as_fresh_copies_until_its_ttl() -> None:
    ticker = Ticker()
    cache = RuleCache(ttl_seconds=10, now=ticker)
    assert cache.get() is None
    kept = _rules(21)
    cache.put(kept, cache.generation())
    served = cache.get()
    assert served is not None and served[0].terms.loan_period_days == 21 and served[0] is not kept[0]
    served[0].terms = RuleTerms("*", "*", loan_period_days=1)  # a caller's change never reaches the cache
    assert cache.get()[0].terms.loan_period_days == 21  # type: ignore[index]
    ticker.now = 10.5
    assert cache.get() is None


def test_an_edit_drops_the_matrix_and_a_read_begun_before_it_is_not_kept() -> None:
    cache = RuleCache(ttl_seconds=10, now=Ticker())
    cache.put(_rules(21), cache.generation())
    before_the_edit = cache.generation()
    cache.clear()
    assert cache.get() is None
    cache.put(_rules(21), before_the_edit)  # read from the database before the edit: maybe stale
    assert cache.get() is None
    cache.put(_rules(5), cache.generation())
    assert cache.get()[0].terms.loan_period_days == 5  # type: ignore[index]


def test_while_the_feed_is_down_nothing_is_served_and_its_return_starts_empty() -> None:
    feed_up = True
    cache = RuleCache(ttl_seconds=10, now=Ticker())
    cache.trust_while(lambda: feed_up)
    cache.put(_rules(21), cache.generation())
    assert cache.get() is not None
    feed_up = False
    assert cache.get() is None
    cache.put(_rules(21), cache.generation())  # not kept while untrusted
    feed_up = True
    assert cache.get() is None  # an edit may have been missed while it was down


def test_a_zero_ttl_turns_it_off() -> None:
    cache = RuleCache(ttl_seconds=0)
    cache.put(_rules(21), cache.generation())
    assert not cache.enabled and cache.get() is None
