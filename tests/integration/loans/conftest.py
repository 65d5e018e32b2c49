"""Loans against a real, migrated Postgres (a fresh database per test) with in-memory peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import pytest
from loans_world import START, World
from sqlalchemy.ext.asyncio import create_async_engine
from unit.loans.fake_peers import FakeCatalog, FakeUsers

from services.loans.api import events
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.support.runtime.clock import FixedClock
from services.support.runtime.db import read_session_factory, session_factory
from services.support.runtime.migrations import upgrade_to_head


@pytest.fixture
async def world(postgres) -> AsyncIterator[World]:
    url = postgres.fresh_database("loans")
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    engine = create_async_engine(url, pool_size=20, max_overflow=20)
    yield World(
        new_uow=partial(  # as the service's: reads without a transaction, the rest on the driver's own
            SqlLoansUnitOfWork,
            session_factory(engine),
            encode=events.encode,
            read_sessions=read_session_factory(engine),
            on_driver=True,
        ),
        clock=FixedClock(START),
        users=FakeUsers(),
        catalog=FakeCatalog(),
        engine=engine,
    )
    await engine.dispose()
