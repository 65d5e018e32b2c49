"""A migrated users database per test module, and the use cases' dependencies over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.support.runtime.clock import FixedClock
from services.support.runtime.db import session_factory
from services.support.runtime.migrations import upgrade_to_head
from services.users import events
from services.users.auth_handlers import AuthDeps
from services.users.keys import KeyStore
from services.users.passwords import Passwords
from services.users.repository import SqlUsersUnitOfWork
from services.users.sessions import ThrottlePolicy

pytestmark = pytest.mark.integration


@dataclass
class UsersDb:
    engine: AsyncEngine
    uow: Callable[[], SqlUsersUnitOfWork]
    deps: AuthDeps
    clock: FixedClock


@pytest.fixture(scope="module")
async def users_db(postgres) -> AsyncIterator[UsersDb]:
    """A fresh, migrated users database with a signing key; cheap argon2 parameters (speed, not safety)."""
    url = postgres.fresh_database("users")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    engine = create_async_engine(url, pool_size=10)
    sessions = session_factory(engine)
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    keys = KeyStore(engine, passphrase=b"test-passphrase", clock=clock)
    await keys.ensure_key()
    deps = AuthDeps(
        clock=clock,
        passwords=Passwords(time_cost=1, memory_cost=8, parallelism=1),
        keys=keys,
        access_ttl=timedelta(minutes=15),
        refresh_ttl=timedelta(days=30),
        throttle=ThrottlePolicy(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=5)),
    )
    yield UsersDb(engine, lambda: SqlUsersUnitOfWork(sessions, encode=events.encode), deps, clock)
    await engine.dispose()
