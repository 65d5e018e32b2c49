"""The rules cache of two loans processes over one database and one NATS: an edit applies at once in the
process that made it, and in the other as soon as its CirculationRuleChanged event arrives; the issue's
checks never run on a matrix older than the last event (or the TTL, when the feed is down)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, timedelta
from functools import partial

import pytest
from loans_world import ADMIN, DESK, World, relaying, running

from services.loans.api import events
from services.loans.app.issuing import IssueLoan
from services.loans.app.rule_matrix import ListCirculationRules, UpdateCirculationRule, list_circulation_rules
from services.loans.app.rule_matrix import update_circulation_rule as update_rule
from services.loans.data.rule_cache import RuleCache
from services.loans.data.rule_feed import rule_cache_follower
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.loans.domain.rules import RuleTerms
from services.support.runtime.engine import session_factory
from services.support.runtime.messaging import NatsLink

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _process(world: World, cache: RuleCache) -> World:
    """Another loans process on the same database and peers: its own units of work and rules cache."""
    uow = partial(SqlLoansUnitOfWork, session_factory(world.engine), encode=events.encoder(UTC), rule_cache=cache)
    return replace(world, new_uow=uow)


async def _due_days(process: World, book: str, patron: str) -> int:
    loan = await process.issue(IssueLoan(patron, book=book, actor=DESK))
    return (loan.due_at - loan.issued_at) // DAY  # type: ignore[operator]


async def _set_loan_period(process: World, days: int) -> None:
    rules = await list_circulation_rules(ListCirculationRules(), uow=process.uow())
    default = next(rule for rule in rules.items if rule.is_default)
    change = UpdateCirculationRule(
        default.id, RuleTerms("", "", loan_period_days=days), ("loan_period_days",), etag=default.etag, actor=ADMIN
    )
    await update_rule(change, uow=process.uow(), clock=process.clock, catalog=process.catalog)


@pytest.fixture
async def link(world: World, nats: str) -> AsyncIterator[NatsLink]:
    """The session's NATS, with this database's outbox relayed to it (as each loans process does)."""
    async with relaying(world, nats, "loans-rule-cache-test") as (link, _):
        yield link


async def _until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_an_edit_applies_at_once_here_and_in_another_process_when_its_event_arrives(
    world: World, link: NatsLink
) -> None:
    book, _ = world.catalog.add_book(copies=8)
    cache_a, cache_b = RuleCache(ttl_seconds=600), RuleCache(ttl_seconds=600)
    a, b = _process(world, cache_a), _process(world, cache_b)
    feeds = [await running(rule_cache_follower(cache, link)) for cache in (cache_a, cache_b)]
    try:
        dropped = cache_b.generation()
        await _set_loan_period(a, 21)

        async def b_heard_of_the_edit() -> bool:  # else the event, arriving late, drops what b reads next
            return cache_b.generation() > dropped

        await _until(b_heard_of_the_edit)
        assert await _due_days(a, book, "users/p1") == 21 and await _due_days(b, book, "users/p2") == 21
        misses = cache_b.misses
        assert await _due_days(b, book, "users/p3") == 21 and cache_b.misses == misses  # served from the cache

        await _set_loan_period(a, 5)
        assert await _due_days(a, book, "users/p4") == 5  # the process that edited: at once

        async def b_lends_by_the_edit() -> bool:
            return cache_b.get() is None  # the event dropped b's matrix

        await _until(b_lends_by_the_edit)
        assert await _due_days(b, book, "users/p5") == 5
    finally:
        for task in feeds:
            task.cancel()
        await asyncio.gather(*feeds, return_exceptions=True)


async def test_without_its_feed_a_process_reads_the_rules_each_time_and_the_ttl_bounds_a_lost_event(
    world: World,
) -> None:
    book, _ = world.catalog.add_book(copies=6)
    ticker = Ticker()
    untrusted, lost_events = RuleCache(ttl_seconds=600), RuleCache(ttl_seconds=10, now=ticker)
    untrusted.trust_while(lambda: False)  # its feed is down
    a, b = _process(world, untrusted), _process(world, lost_events)
    await world.set_default_rule(loan_period_days=21)
    assert await _due_days(a, book, "users/p1") == 21 and await _due_days(b, book, "users/p2") == 21
    await world.set_default_rule(loan_period_days=7)  # an edit whose event never arrives
    assert await _due_days(a, book, "users/p3") == 7  # no feed: the database every time
    assert await _due_days(b, book, "users/p4") == 21  # within the TTL: the kept matrix
    ticker.now = 11
    assert await _due_days(b, book, "users/p5") == 7
