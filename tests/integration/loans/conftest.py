"""Loans against a real, migrated Postgres (a fresh database per test) with in-memory peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from functools import partial
from pathlib import Path

import pytest
from loans_world import START, World
from sqlalchemy.ext.asyncio import create_async_engine
from unit.loans.fake_peers import FakeCatalog, FakeUsers

from services.loans.api import events
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.support.launcher.nats import LocalNats
from services.support.runtime.clock import FixedClock
from services.support.runtime.engine import read_session_factory, session_factory
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
            encode=events.encoder(UTC),
            read_sessions=read_session_factory(engine),
            on_driver=True,
        ),
        clock=FixedClock(START),
        users=FakeUsers(),
        catalog=FakeCatalog(),
        engine=engine,
    )
    await engine.dispose()


@pytest.fixture
def own_nats(launcher_dir: Path, infra_supervisor, free_port_source: Iterator[int]) -> Iterator[LocalNats]:
    """A NATS of this test's own, for a test that stops it or fills its streams with what others must not
    read (the session's is shared and must keep running)."""
    name = f"nats-loans-{time.monotonic_ns()}"
    server = LocalNats(launcher_dir / name, next(free_port_source), infra_supervisor, name=name)
    server.start()
    yield server
    server.stop()
