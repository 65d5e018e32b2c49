"""A membership that ran out makes the account EXPIRED everywhere it shows: in the lists' status filter, and
in its sessions, which end as they do when an account is blocked."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.support.runtime.clock import FixedClock
from services.support.runtime.identity import Role
from services.users.app import accounts
from services.users.app.ports import UserFilter
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.sessions import SessionRevoked

from ..conftest import NOW, THROTTLING, open_session
from ..fakes import FakePasswords, FakeUsersDatabase

LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)
LAPSED = NOW - timedelta(days=1)


async def _reader(db: FakeUsersDatabase, clock: FixedClock, passwords: FakePasswords, **profile: object) -> User:
    fields = {"email": f"{uuid.uuid4().hex[:8]}@example.org", **profile}
    command = accounts.CreateUser(Profile(**fields), "", LIBRARIAN)  # type: ignore[arg-type]
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


async def _listed(db: FakeUsersDatabase, clock: FixedClock, status: UserStatus) -> tuple[set[uuid.UUID], int]:
    page = await accounts.list_users(accounts.ListUsers(UserFilter(status=status)), uow=db.unit_of_work(), clock=clock)
    return {user.id for user in page.items}, page.total_size


async def test_the_status_filter_lists_an_account_under_the_status_the_list_shows(db, clock, passwords) -> None:
    active = await _reader(db, clock, passwords)
    lapsed = await _reader(db, clock, passwords, expire_at=LAPSED)
    stored_expired = await _reader(db, clock, passwords, status=UserStatus.EXPIRED)
    blocked_and_lapsed = await _reader(db, clock, passwords, status=UserStatus.BLOCKED, expire_at=LAPSED)
    assert await _listed(db, clock, UserStatus.ACTIVE) == ({active.id}, 1)
    assert await _listed(db, clock, UserStatus.EXPIRED) == ({lapsed.id, stored_expired.id}, 2)
    assert await _listed(db, clock, UserStatus.BLOCKED) == ({blocked_and_lapsed.id}, 1)


async def test_a_membership_running_out_moves_the_account_from_active_to_expired(db, clock, passwords) -> None:
    reader = await _reader(db, clock, passwords, expire_at=NOW + timedelta(hours=1))
    assert await _listed(db, clock, UserStatus.ACTIVE) == ({reader.id}, 1)
    clock.advance(timedelta(hours=2))  # the membership lasts to the end of that day
    assert await _listed(db, clock, UserStatus.ACTIVE) == ({reader.id}, 1)
    clock.advance(timedelta(hours=10))  # midnight: the day has ended
    assert await _listed(db, clock, UserStatus.ACTIVE) == (set(), 0)
    assert await _listed(db, clock, UserStatus.EXPIRED) == ({reader.id}, 1)


async def _expire(db: FakeUsersDatabase, clock: FixedClock, passwords: FakePasswords, user: User, at: datetime) -> None:
    command = accounts.UpdateUser(user.id, Profile(email="", expire_at=at), frozenset({"expire_time"}), LIBRARIAN)
    await accounts.update_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords, throttling=THROTTLING)


async def test_a_past_expire_time_ends_the_sessions_as_blocking_does(db, clock, passwords) -> None:
    reader = await _reader(db, clock, passwords)
    session = await open_session(db, reader)
    await _expire(db, clock, passwords, reader, LAPSED)
    assert db.sessions[session.id].revoke_reason == "account_expired"
    revoked = [event for event in db.published if isinstance(event, SessionRevoked)]
    assert [(event.session_id, event.reason) for event in revoked] == [(session.id, "account_expired")]


async def test_a_future_expire_time_leaves_the_sessions_alone(db, clock, passwords) -> None:
    reader = await _reader(db, clock, passwords)
    session = await open_session(db, reader)
    await _expire(db, clock, passwords, reader, NOW + timedelta(days=30))
    assert db.sessions[session.id].revoked_at is None
