"""RequestPasswordReset and ResetPassword: single-use tokens stored as hashes, one live per account, 30 minutes."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import timedelta

import pytest

from services.support.runtime.errors import FailedPrecondition, InvalidArgument
from services.support.runtime.identity import Role
from services.users.app import accounts, password_resets
from services.users.domain.accounts import Actor, PasswordChanged, User
from services.users.domain.password_resets import PasswordResetRequested, ResetPolicy
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.sessions import Session, SessionRevoked, token_digest

from ..conftest import NOW
from ..fakes import FakePasswords, FakeUsersDatabase

OLD, NEW = "Correct-Horse-42", "Battery-Staple-77"
POLICY = ResetPolicy(lifetime=timedelta(minutes=30), resend_after=timedelta(minutes=1))


async def _reader(db: FakeUsersDatabase, passwords: FakePasswords, clock, *, status=UserStatus.ACTIVE) -> User:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org", status=status)
    command = accounts.CreateUser(profile, OLD, Actor("users/staff", Role.LIBRARIAN))
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


async def _request(db: FakeUsersDatabase, clock, email: str) -> None:
    command = password_resets.RequestPasswordReset(email)
    await password_resets.request_password_reset(command, uow=db.unit_of_work(), clock=clock, policy=POLICY)


async def _reset(db: FakeUsersDatabase, clock, passwords, token: str, new: str = NEW) -> None:
    command = password_resets.ResetPassword(token, new)
    await password_resets.reset_password(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


def _tokens(db: FakeUsersDatabase) -> list[str]:
    return [e.token for e in db.published if isinstance(e, PasswordResetRequested)]


async def test_a_reset_mails_a_256_bit_token_of_which_only_the_hash_is_stored(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    await _request(db, clock, f"  {user.profile.email.upper()} ")
    (token,) = _tokens(db)
    (event,) = [e for e in db.published if isinstance(e, PasswordResetRequested)]
    assert event.name == user.name and event.expires_at == NOW + timedelta(minutes=30)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    stored = db.resets[user.id]
    assert stored.digest == token_digest(token)
    assert token not in repr(dataclasses.asdict(stored)) and token not in repr(event)


async def test_the_new_password_works_once_and_signs_out_every_session(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    sessions = [Session.start(user.id, now=NOW) for _ in range(2)]
    db.sessions.update({s.id: s for s in sessions})
    await _request(db, clock, user.profile.email)
    (token,) = _tokens(db)
    await _reset(db, clock, passwords, token)
    assert db.users[user.id].password_hash == f"v2${NEW}"
    assert {db.sessions[s.id].revoke_reason for s in sessions} == {"password_changed"}
    assert len([e for e in db.published if isinstance(e, SessionRevoked)]) == 2
    assert db.announced_after == [len(db.commits)]  # answered once the revocations were on the bus
    (changed,) = [e for e in db.published if isinstance(e, PasswordChanged)]
    assert (changed.name, changed.method, changed.changed_by) == (user.name, "reset", "")
    with pytest.raises(FailedPrecondition) as again:
        await _reset(db, clock, passwords, token, new="Another-Password-99")
    assert again.value.reason == "RESET_TOKEN_INVALID" and db.users[user.id].password_hash == f"v2${NEW}"


async def test_an_expired_token_is_refused(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    await _request(db, clock, user.profile.email)
    (token,) = _tokens(db)
    clock.advance(timedelta(minutes=30))
    with pytest.raises(FailedPrecondition) as refused:
        await _reset(db, clock, passwords, token)
    assert refused.value.reason == "RESET_TOKEN_INVALID" and db.users[user.id].password_hash == f"v2${OLD}"


async def test_a_newer_request_makes_the_older_link_invalid(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    await _request(db, clock, user.profile.email)
    clock.advance(timedelta(minutes=2))
    await _request(db, clock, user.profile.email)
    older, newer = _tokens(db)
    with pytest.raises(FailedPrecondition):
        await _reset(db, clock, passwords, older)
    await _reset(db, clock, passwords, newer)
    assert db.users[user.id].password_hash == f"v2${NEW}"


async def test_requests_a_minute_apart_send_one_mail(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    for _ in range(5):
        await _request(db, clock, user.profile.email)
        clock.advance(timedelta(seconds=10))
    assert len(_tokens(db)) == 1


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
async def test_an_unknown_or_missing_token_changes_nothing(db, clock, passwords, token: str) -> None:
    user = await _reader(db, passwords, clock)
    await _request(db, clock, user.profile.email)
    with pytest.raises((FailedPrecondition, InvalidArgument)):
        await _reset(db, clock, passwords, token)
    assert db.users[user.id].password_hash == f"v2${OLD}" and user.id in db.resets


async def test_a_weak_new_password_is_refused_and_the_token_kept(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    await _request(db, clock, user.profile.email)
    (token,) = _tokens(db)
    with pytest.raises(InvalidArgument):
        await _reset(db, clock, passwords, token, new="password")
    await _reset(db, clock, passwords, token)  # still good for a better password
    assert db.users[user.id].password_hash == f"v2${NEW}"


async def test_an_unknown_or_closed_account_gets_nothing_and_the_same_answer(db, clock, passwords) -> None:
    closed = await _reader(db, passwords, clock, status=UserStatus.DEACTIVATED)
    before = len(db.commits)
    assert await _request(db, clock, "nobody@example.org") is None
    assert await _request(db, clock, closed.profile.email) is None
    assert _tokens(db) == [] and len(db.commits) == before and db.resets == {}


@pytest.mark.parametrize("status", [UserStatus.BLOCKED, UserStatus.EXPIRED])
async def test_a_blocked_or_expired_reader_may_reset_their_password(db, clock, passwords, status) -> None:
    user = await _reader(db, passwords, clock, status=status)
    await _request(db, clock, user.profile.email)
    (token,) = _tokens(db)
    await _reset(db, clock, passwords, token)
    assert db.users[user.id].password_hash == f"v2${NEW}"


async def test_the_answer_takes_the_floor_time_with_or_without_an_account(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    for email in (user.profile.email, "nobody@example.org"):
        started = time.monotonic()
        command = password_resets.RequestPasswordReset(email)
        await password_resets.request_password_reset(
            command, uow=db.unit_of_work(), clock=clock, policy=POLICY, answer_floor=0.05
        )
        assert time.monotonic() - started >= 0.05


async def test_a_reset_request_names_who_asked_and_from_where_not_the_account(db, clock, passwords) -> None:
    user = await _reader(db, passwords, clock)
    command = password_resets.RequestPasswordReset(user.profile.email, client="198.51.100.23")
    await password_resets.request_password_reset(command, uow=db.unit_of_work(), clock=clock, policy=POLICY)
    (event,) = [e for e in db.published if isinstance(e, PasswordResetRequested)]
    assert (event.name, event.requested_by, event.client_address) == (user.name, "anonymous", "198.51.100.23")
