"""A migrated events database per test, and the SQL unit of work over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.events.data.unit_of_work import SqlEventsUnitOfWork
from services.support.runtime.engine import session_factory
from services.support.runtime.migrations import upgrade_to_head


@dataclass
class EventsDb:
    url: str
    engine: AsyncEngine
    uow: Callable[[], SqlEventsUnitOfWork]


@pytest.fixture
async def events_db(postgres) -> AsyncIterator[EventsDb]:
    url = await asyncio.to_thread(postgres.fresh_database, "events")
    await asyncio.to_thread(upgrade_to_head, "events", url)
    engine = create_async_engine(url, pool_size=4)
    sessions = session_factory(engine)
    yield EventsDb(url, engine, lambda: SqlEventsUnitOfWork(sessions))
    await engine.dispose()
