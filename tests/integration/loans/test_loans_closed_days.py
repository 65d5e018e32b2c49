"""The library's calendar on Postgres: closed days stored, refused twice, listed and deleted, each change an
outbox event; the per-process cache of two loans processes dropped at once in the one that closed a day, and in
the other when its ClosedDayChanged event arrives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date
from functools import partial

import pytest
from loans_world import ADMIN, DESK, START, World, relaying, running

from services.loans.api import events
from services.loans.app.calendar import (
    CreateClosedDay,
    DeleteClosedDay,
    ListClosedDays,
    create_closed_day,
    delete_closed_day,
    list_closed_days,
)
from services.loans.app.issuing import IssueLoan
from services.loans.data.calendar_cache import ClosedDayCache, closed_day_cache_follower
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.support.runtime.engine import session_factory
from services.support.runtime.errors import AlreadyExists, NotFound
from services.support.runtime.messaging import NatsLink

pytestmark = pytest.mark.integration
DUE = date(2026, 11, 16)  # of a 14-day loan lent at START (the default rule's period)


def _process(world: World, cache: ClosedDayCache) -> World:
    """Another loans process on the same database: its own units of work and closed days cache."""
    uow = partial(SqlLoansUnitOfWork, session_factory(world.engine), encode=events.encoder(UTC), closed_day_cache=cache)
    return replace(world, new_uow=uow)


async def _close(process: World, day: date, reason: str = "Holiday") -> None:
    command = CreateClosedDay(day, reason, actor=ADMIN)
    await create_closed_day(command, uow=process.uow(), clock=process.clock, zone=UTC)


async def _due_day(process: World, book: str, patron: str) -> date:
    loan = await process.issue(IssueLoan(patron, book=book, actor=DESK))
    assert loan.due_at is not None
    return loan.due_at.date()


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


@pytest.fixture
async def link(world: World, nats: str) -> AsyncIterator[NatsLink]:
    async with relaying(world, nats, "loans-closed-day-test") as (link, _):
        yield link


async def test_closed_days_are_stored_refused_twice_listed_and_deleted_each_an_event(world: World) -> None:
    await world.set_default_rule(loan_period_days=14)
    await _close(world, date(2027, 1, 1), "New Year")
    await _close(world, DUE)
    with pytest.raises(AlreadyExists) as refused:
        await _close(world, DUE)
    assert refused.value.reason == "CLOSED_DAY_EXISTS"
    page = await list_closed_days(ListClosedDays(end=date(2026, 12, 31)), uow=world.uow())
    assert [(c.name, c.reason, c.created_at) for c in page.items] == [("closedDays/2026-11-16", "Holiday", START)]
    book, _ = world.catalog.add_book(copies=2)
    assert await _due_day(world, book, "users/p1") == date(2026, 11, 17)
    await delete_closed_day(DeleteClosedDay(DUE, actor=ADMIN), uow=world.uow(), clock=world.clock)
    with pytest.raises(NotFound):
        await delete_closed_day(DeleteClosedDay(DUE, actor=ADMIN), uow=world.uow(), clock=world.clock)
    assert await _due_day(world, book, "users/p2") == DUE
    assert (await world.subjects()).count("closed_day_changed") == 3


async def test_a_closed_day_applies_at_once_here_and_in_another_process_when_its_event_arrives(
    world: World, link: NatsLink
) -> None:
    await world.set_default_rule(loan_period_days=14)
    book, _ = world.catalog.add_book(copies=6)
    cache_a, cache_b = ClosedDayCache(ttl_seconds=600), ClosedDayCache(ttl_seconds=600)
    a, b = _process(world, cache_a), _process(world, cache_b)
    feeds = [await running(closed_day_cache_follower(cache, link)) for cache in (cache_a, cache_b)]
    try:
        assert await _due_day(a, book, "users/p1") == DUE and await _due_day(b, book, "users/p2") == DUE
        misses = cache_b.misses
        assert await _due_day(b, book, "users/p3") == DUE and cache_b.misses == misses  # served from the cache

        await _close(a, DUE)
        assert await _due_day(a, book, "users/p4") == date(2026, 11, 17)  # the process that closed it: at once

        async def b_heard_of_it() -> bool:
            return cache_b.get() is None  # the event dropped b's calendar

        await _until(b_heard_of_it)
        assert await _due_day(b, book, "users/p5") == date(2026, 11, 17)
    finally:
        for task in feeds:
            task.cancel()
        await asyncio.gather(*feeds, return_exceptions=True)
