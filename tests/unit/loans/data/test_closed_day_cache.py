"""The per-process closed days cache: served while fresh and trusted, dropped on a change (or its event), never
refilled with a read that began before a change, and bypassed while its invalidation feed is down."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any, cast

from services.loans.data.calendar_cache import CLOSED_DAY_CHANGED, ClosedDayCache, invalidate_on_message
from services.loans.data.rule_feed import RULE_CHANGED

NEW_YEAR = frozenset({date(2027, 1, 1)})


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_kept_days_are_served_until_the_ttl() -> None:
    ticker = Ticker()
    cache = ClosedDayCache(ttl_seconds=10, now=ticker)
    assert cache.get() is None
    cache.put(NEW_YEAR, cache.generation())
    assert cache.get() == NEW_YEAR
    ticker.now = 10.5
    assert cache.get() is None


def test_a_change_drops_the_days_and_a_read_begun_before_it_is_not_kept() -> None:
    cache = ClosedDayCache(ttl_seconds=10, now=Ticker())
    before = cache.generation()
    cache.clear()
    cache.put(NEW_YEAR, before)
    assert cache.get() is None


def test_only_a_closed_day_event_drops_the_days() -> None:
    cache = ClosedDayCache(ttl_seconds=10, now=Ticker())
    cache.put(NEW_YEAR, cache.generation())
    invalidate_on_message(cache, cast(Any, SimpleNamespace(subject=RULE_CHANGED)))
    assert cache.get() == NEW_YEAR
    invalidate_on_message(cache, cast(Any, SimpleNamespace(subject=CLOSED_DAY_CHANGED)))
    assert cache.get() is None


def test_while_the_feed_is_down_nothing_is_served_and_a_zero_ttl_turns_it_off() -> None:
    feed_up = False
    cache = ClosedDayCache(ttl_seconds=10, now=Ticker())
    cache.trust_while(lambda: feed_up)
    cache.put(NEW_YEAR, cache.generation())
    assert cache.get() is None
    off = ClosedDayCache(ttl_seconds=0)
    off.put(NEW_YEAR, off.generation())
    assert off.get() is None and not off.enabled
