"""Membership expiry against a real Postgres: an expired admin is no admin, when the SQL looks for one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from services.support.runtime.errors import FailedPrecondition, Unauthenticated
from services.support.runtime.identity import Role
from services.users.app import accounts, admins, signing_in
from services.users.app.ports import UserFilter
from services.users.data.tables import users
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile, UserStatus

pytestmark = pytest.mark.integration

EXPIRE = frozenset({"expire_time"})
DEMOTE = frozenset({"role"})
LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)


@pytest.fixture
async def no_admins(users_db) -> AsyncIterator[None]:
    """The module's database is shared: its tests start with no admin who could sign in."""
    retire = users.update().where(users.c.role == Role.ADMIN.value).values(status=UserStatus.DEACTIVATED.value)
    async with users_db.engine.begin() as connection:
        await connection.execute(retire)
    yield


async def _admin(db) -> User:
    profile = Profile(email=f"admin-{uuid.uuid4().hex[:10]}@example.org", role=Role.ADMIN, patron_category="STAFF")
    return await accounts.create_user(
        accounts.CreateUser(profile, "", admins.OPERATOR), uow=db.uow(), clock=db.clock, passwords=db.passwords
    )


async def _update(db, user: User, changes: Profile, mask: frozenset[str], actor: User) -> User:
    command = accounts.UpdateUser(user.id, changes, mask, Actor(actor.name, actor.profile.role))
    return await accounts.update_user(command, uow=db.uow(), **db.account_ports)


def _lapsed(db) -> Profile:
    return Profile(email="", expire_at=db.clock.now() - timedelta(days=1))


async def test_an_admin_whose_membership_expired_is_not_counted_as_an_admin(users_db, no_admins) -> None:
    first, second = await _admin(users_db), await _admin(users_db)
    await _update(users_db, second, _lapsed(users_db), EXPIRE, first)
    async with users_db.uow() as uow:
        assert await uow.users.lock_active_admins(now=users_db.clock.now()) == [first.id]
    with pytest.raises(FailedPrecondition) as refused:
        await _update(users_db, first, Profile(email="", role=Role.LIBRARIAN), DEMOTE, first)
    assert refused.value.reason == "LAST_ADMIN"


async def test_two_admins_expiring_each_other_at_once_leave_one(users_db, no_admins) -> None:
    first, second = await _admin(users_db), await _admin(users_db)
    outcomes = await asyncio.gather(
        _update(users_db, second, _lapsed(users_db), EXPIRE, first),
        _update(users_db, first, _lapsed(users_db), EXPIRE, second),
        return_exceptions=True,
    )
    refused = [outcome for outcome in outcomes if isinstance(outcome, FailedPrecondition)]
    assert len(refused) == 1 and refused[0].reason == "LAST_ADMIN"
    async with users_db.uow() as uow:
        assert len(await uow.users.lock_active_admins(now=users_db.clock.now())) == 1


async def test_the_status_filter_matches_the_status_the_list_shows(users_db) -> None:
    marker = uuid.uuid4().hex[:8]
    lapsed_at = users_db.clock.now() - timedelta(days=1)

    async def reader(label: str, **profile: object) -> uuid.UUID:
        made = Profile(email=f"{marker}-{label}@example.org", **profile)  # type: ignore[arg-type]
        command = accounts.CreateUser(made, "", LIBRARIAN)
        user = await accounts.create_user(
            command, uow=users_db.uow(), clock=users_db.clock, passwords=users_db.passwords
        )
        return user.id

    active = await reader("active", expire_at=users_db.clock.now() + timedelta(days=1))
    lapsed = await reader("lapsed", expire_at=lapsed_at)
    stored = await reader("stored", status=UserStatus.EXPIRED)
    blocked = await reader("blocked", status=UserStatus.BLOCKED, expire_at=lapsed_at)
    expected = {UserStatus.ACTIVE: {active}, UserStatus.EXPIRED: {lapsed, stored}, UserStatus.BLOCKED: {blocked}}
    for status, ids in expected.items():
        page = await accounts.list_users(
            accounts.ListUsers(UserFilter(status=status, text=marker)), uow=users_db.uow(), clock=users_db.clock
        )
        assert ({user.id for user in page.items}, page.total_size) == (ids, len(ids)), status


async def test_a_past_expire_time_ends_the_sessions(users_db) -> None:
    register = signing_in.Register(Profile(email=f"reader-{uuid.uuid4().hex[:10]}@example.org"), "Correct-Horse-42")
    signed_in = await signing_in.register(register, uow=users_db.uow(), **users_db.auth)
    lapsed = accounts.UpdateUser(signed_in.user.id, _lapsed(users_db), EXPIRE, LIBRARIAN)
    await accounts.update_user(lapsed, uow=users_db.uow(), **users_db.account_ports)
    refresh = signing_in.RefreshSession(signed_in.refresh_token)
    with pytest.raises(Unauthenticated) as refused:  # revoked, not only refused as an expired account's
        await signing_in.refresh_session(
            refresh, uow=users_db.uow(), clock=users_db.clock, keys=users_db.keys, lifetimes=users_db.lifetimes
        )
    assert refused.value.reason == "REFRESH_TOKEN_REVOKED"
