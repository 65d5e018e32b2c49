"""A migrated users database per test module, and the use cases' ports over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.support.runtime.clock import FixedClock
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.migrations import upgrade_to_head
from services.users.api import events
from services.users.app.signing_keys import ensure_signing_key
from services.users.data.passwords import Argon2Passwords
from services.users.data.signing_keys import SqlSigningKeys
from services.users.data.unit_of_work import SqlUsersUnitOfWork
from services.users.domain.sessions import TokenLifetimes
from services.users.domain.throttling import SignInThrottling, ThrottlePolicy

pytestmark = pytest.mark.integration

CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}  # speed, not safety
PASSPHRASE = b"test-passphrase"


@dataclass
class UsersDb:
    url: str
    engine: AsyncEngine
    uow: Callable[[], SqlUsersUnitOfWork]
    clock: FixedClock
    passwords: Argon2Passwords
    keys: SqlSigningKeys
    lifetimes: TokenLifetimes
    throttling: SignInThrottling

    @property
    def account_ports(self) -> dict[str, Any]:
        """The ports update_user takes besides its unit of work."""
        return {"clock": self.clock, "passwords": self.passwords, "throttling": self.throttling}

    @property
    def auth(self) -> dict[str, Any]:
        """The ports register takes, by keyword (sign_in adds `throttling`)."""
        return {"clock": self.clock, "passwords": self.passwords, "keys": self.keys, "lifetimes": self.lifetimes}


@pytest.fixture(scope="module")
async def users_db(postgres) -> AsyncIterator[UsersDb]:
    """A fresh, migrated users database with a signing key; cheap argon2 parameters."""
    url = postgres.fresh_database("users")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    engine = create_async_engine(url, pool_size=10)
    sessions = session_factory(engine)
    reads = read_session_factory(engine)  # as the service: its reads run without a transaction
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    keys = SqlSigningKeys(engine, passphrase=PASSPHRASE)
    await ensure_signing_key(keys=keys, clock=clock)
    yield UsersDb(
        url=url,
        engine=engine,
        uow=lambda: SqlUsersUnitOfWork(sessions, encode=events.encode, read_sessions=reads),
        clock=clock,
        passwords=Argon2Passwords(**CHEAP_ARGON2),
        keys=keys,
        lifetimes=TokenLifetimes(access=timedelta(minutes=15), refresh=timedelta(days=30)),
        throttling=SignInThrottling(
            account_from_client=ThrottlePolicy(3, timedelta(minutes=5), timedelta(seconds=1), timedelta(minutes=15)),
            client=ThrottlePolicy(50, timedelta(seconds=10), timedelta(seconds=1), timedelta(minutes=5)),
        ),
    )
    await engine.dispose()
