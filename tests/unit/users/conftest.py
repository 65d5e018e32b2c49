"""The in-memory ports every users use-case test starts from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.support.runtime.clock import FixedClock
from services.users.domain.accounts import User
from services.users.domain.sessions import Session, TokenLifetimes
from services.users.domain.signing_keys import SigningKey
from services.users.domain.throttling import SignInThrottling, ThrottlePolicy

from .fakes import FakePasswords, FakeSigningKeys, FakeUsersDatabase

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # tokens are verified at the test clock's time, not the wall clock's
LIFETIMES = TokenLifetimes(access=timedelta(minutes=15), refresh=timedelta(days=30))
THROTTLING = SignInThrottling(
    account_from_client=ThrottlePolicy(3, timedelta(minutes=5), timedelta(seconds=1), timedelta(minutes=15)),
    client=ThrottlePolicy(10, timedelta(seconds=10), timedelta(seconds=1), timedelta(minutes=5)),
)


@pytest.fixture
def db() -> FakeUsersDatabase:
    return FakeUsersDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def passwords() -> FakePasswords:
    return FakePasswords()


@pytest.fixture
def keys() -> FakeSigningKeys:
    return FakeSigningKeys(SigningKey.generate(now=NOW - timedelta(days=1)))


async def open_session(db: FakeUsersDatabase, user: User) -> Session:
    """A session of `user`, signed in at NOW, as if through Login."""
    async with db.unit_of_work() as uow:
        session = Session.start(user.id, now=NOW)
        await uow.sessions.add(session)
        await uow.commit()
    return session
