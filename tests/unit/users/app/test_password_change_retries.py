"""ChangePassword with a request_id: a retry of a change whose answer was lost answers as the change did (it was
told "current password is wrong": the current one is the old one now); and a change is answered only once the
sessions it ended are revoked on the bus, as a sign-out is."""

from __future__ import annotations

import uuid

import pytest

from services.support.runtime.errors import DependencyUnavailable, InvalidArgument, PermissionDenied
from services.support.runtime.identity import Role
from services.users.app import accounts, credentials
from services.users.domain.accounts import Actor, PasswordChanged, User
from services.users.domain.profile import Profile
from services.users.domain.sessions import Session, SessionRevoked

from ..conftest import NOW, THROTTLING
from ..fakes import FakePasswords, FakeUsersDatabase

OLD, NEW = "Correct-Horse-42", "Battery-Staple-77"


async def _reader(db: FakeUsersDatabase, passwords: FakePasswords, clock) -> tuple[User, Actor]:  # type: ignore[no-untyped-def]
    command = accounts.CreateUser(
        Profile(email=f"{uuid.uuid4().hex[:8]}@example.org"), OLD, Actor("users/staff", Role.LIBRARIAN)
    )
    user = await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    return user, Actor(user.name, Role.READER)


def _signed_in(db: FakeUsersDatabase, user: User) -> Session:
    session = Session.start(user.id, now=NOW)
    db.sessions[session.id] = session
    return session


async def _change(db, clock, passwords, command: credentials.ChangePassword) -> None:  # type: ignore[no-untyped-def]
    await credentials.change_password(
        command, uow=db.unit_of_work(), clock=clock, passwords=passwords, throttling=THROTTLING
    )


async def test_a_retried_change_answers_as_the_first_did_not_that_the_current_password_is_wrong(
    db, clock, passwords
) -> None:
    user, actor = await _reader(db, passwords, clock)
    mine, other = _signed_in(db, user), _signed_in(db, user)
    command = credentials.ChangePassword(user.id, OLD, NEW, actor, str(mine.id), request_id=uuid.uuid4())
    await _change(db, clock, passwords, command)
    commits = len(db.commits)

    await _change(db, clock, passwords, command)  # the answer was lost: sent again as it was

    assert db.users[user.id].password_hash == f"v2${NEW}" and len(db.commits) == commits  # nothing done twice
    assert [type(e) for e in db.published].count(PasswordChanged) == 1
    assert db.sessions[other.id].revoke_reason == "password_changed" and db.sessions[mine.id].revoked_at is None


async def test_a_change_without_a_request_id_sent_again_is_still_told_the_password_is_wrong(
    db, clock, passwords
) -> None:
    user, actor = await _reader(db, passwords, clock)
    command = credentials.ChangePassword(user.id, OLD, NEW, actor, "")
    await _change(db, clock, passwords, command)
    with pytest.raises(PermissionDenied) as refused:
        await _change(db, clock, passwords, command)
    assert refused.value.reason == "WRONG_PASSWORD"


async def test_a_request_id_used_for_another_accounts_change_is_refused(db, clock, passwords) -> None:
    first, first_actor = await _reader(db, passwords, clock)
    second, second_actor = await _reader(db, passwords, clock)
    request_id = uuid.uuid4()
    await _change(
        db, clock, passwords, credentials.ChangePassword(first.id, OLD, NEW, first_actor, "", request_id=request_id)
    )
    with pytest.raises(InvalidArgument) as refused:
        await _change(
            db,
            clock,
            passwords,
            credentials.ChangePassword(second.id, OLD, NEW, second_actor, "", request_id=request_id),
        )
    assert [v.field for v in refused.value.violations] == ["request_id"]
    assert db.users[second.id].password_hash == f"v2${OLD}"


async def test_a_change_the_bus_cannot_take_is_saved_answered_unavailable_and_confirmed_when_sent_again(
    db, clock, passwords
) -> None:
    user, _ = await _reader(db, passwords, clock)
    session = _signed_in(db, user)
    staff = Actor(f"users/{uuid.uuid4()}", Role.LIBRARIAN)
    command = credentials.ChangePassword(user.id, "", NEW, staff, "", request_id=uuid.uuid4())
    db.bus_reachable = False
    with pytest.raises(DependencyUnavailable, match="send the change again"):
        await _change(db, clock, passwords, command)
    assert db.users[user.id].password_hash == f"v2${NEW}"  # saved all the same, its session ended here
    assert db.sessions[session.id].revoke_reason == "password_changed"
    with pytest.raises(DependencyUnavailable):
        await _change(db, clock, passwords, command)  # sent again while the bus is still away: not confirmed
    db.bus_reachable = True
    await _change(db, clock, passwords, command)  # once it is back: confirmed, nothing done twice
    assert [type(e) for e in db.published].count(SessionRevoked) == 1
