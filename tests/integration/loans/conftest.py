"""Loans against a real, migrated Postgres (a fresh database per test) with in-memory peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from loans_fakes import FakeCatalog, FakeUsers
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.loans import events
from services.loans.borrowing import Actor, Role
from services.loans.handlers import Circulation
from services.loans.repository import SqlLoansUnitOfWork
from services.loans.tables import circulation_rules
from services.runtime.clock import FixedClock
from services.runtime.db import session_factory
from services.runtime.migrations import upgrade_to_head
from services.runtime.outbox import OUTBOX

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DESK = Actor(user="users/librarian", role=Role.LIBRARIAN)
ADMIN = Actor(user="users/admin", role=Role.ADMIN)


@dataclass
class World:
    """A loans service's use cases over a real database, with fake peers and a clock the test moves."""

    circulation: Circulation
    catalog: FakeCatalog
    users: FakeUsers
    clock: FixedClock
    engine: AsyncEngine

    def with_(self, **changes: object) -> Circulation:
        return replace(self.circulation, **changes)  # type: ignore[arg-type]

    async def subjects(self) -> list[str]:
        """Outbox subjects in commit order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))
            return [row.subject.split(".")[2] for row in rows]

    async def set_default_rule(self, **terms: object) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                circulation_rules.update()
                .where(circulation_rules.c.patron_category == "*", circulation_rules.c.item_type == "*")
                .values(**terms)
            )

    async def scalar(self, statement: sa.Executable) -> object:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).scalar()


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
