"""Loans against a real, migrated Postgres (a fresh database per test) with in-memory peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from loans_fakes import FakeCatalog, FakeUsers
from loans_world import START, World
from sqlalchemy.ext.asyncio import create_async_engine

from services.loans import events
from services.loans.handlers import Circulation
from services.loans.repository import SqlLoansUnitOfWork
from services.support.runtime.clock import FixedClock
from services.support.runtime.db import session_factory
from services.support.runtime.migrations import upgrade_to_head


@pytest.fixture
async def world(postgres) -> AsyncIterator[World]:
    url = postgres.fresh_database("loans")
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    engine = create_async_engine(url, pool_size=20, max_overflow=20)
    sessions = session_factory(engine)
    catalog, users, clock = FakeCatalog(), FakeUsers(), FixedClock(START)
    circulation = Circulation(
        uow=lambda: SqlLoansUnitOfWork(sessions, encode=events.encode),
        clock=clock,
        users=users,
        catalog=catalog,
    )
    yield World(circulation, catalog, users, clock, engine)
    await engine.dispose()
