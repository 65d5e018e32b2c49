"""The sign-in use cases as the users app tests call them: the ports they take (`auth`), and one step each
(register, sign in, refresh) with a known password."""

from __future__ import annotations

import pytest

from services.support.runtime.identity import Role
from services.users.app import signing_in, signing_keys
from services.users.domain.profile import Profile

from ..conftest import LIFETIMES, THROTTLING
from ..fakes import FakeUsersDatabase

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def auth(db, clock, passwords, keys):
    """The ports of every auth use case, by keyword (each use case takes the ones it needs)."""
    return {"clock": clock, "passwords": passwords, "keys": keys, "lifetimes": LIFETIMES}


async def register(db: FakeUsersDatabase, auth: dict, email: str = "ada@example.org", **kw: object):
    command = signing_in.Register(Profile(email=email, role=Role.ADMIN), PASSWORD, **kw)  # type: ignore[arg-type]
    return await signing_in.register(command, uow=db.unit_of_work(), **auth)


async def sign_in(
    db: FakeUsersDatabase,
    auth: dict,
    email: str = "ada@example.org",
    password: str = PASSWORD,
    client: str = "203.0.113.7",
):
    command = signing_in.SignIn(email, password, client=client)
    return await signing_in.sign_in(command, uow=db.unit_of_work(), throttling=THROTTLING, **auth)


async def refresh(db: FakeUsersDatabase, auth: dict, token: str):
    command = signing_in.RefreshSession(token)
    return await signing_in.refresh_session(
        command, uow=db.unit_of_work(), clock=auth["clock"], keys=auth["keys"], lifetimes=LIFETIMES
    )


async def public_keys(auth: dict) -> list[dict[str, str]]:
    return await signing_keys.list_public_keys(keys=auth["keys"], clock=auth["clock"], lifetimes=LIFETIMES)
