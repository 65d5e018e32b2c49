"""What account changes must not do: leave the library without an admin, let an old role outlive its tokens,
or move someone's email without their password; and the operator's way back in."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.support.runtime.errors import (
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Throttled,
)
from services.support.runtime.identity import Role
from services.users.app import accounts, admins
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile, UserStatus

from ..conftest import NOW, THROTTLING, open_session
from ..fakes import FakeCirculation, FakePasswords, FakeUsersDatabase

PASSWORD = "Correct-Horse-42"
DEMOTE = frozenset({"role"})


async def _account(db: FakeUsersDatabase, passwords: FakePasswords, clock, role: Role = Role.ADMIN) -> User:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org", role=role, patron_category="STAFF")
    command = accounts.CreateUser(profile, PASSWORD, admins.OPERATOR)
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


async def _update(db, clock, passwords, user: User, changes: Profile, mask: frozenset[str], actor: Actor, **kw):
    command = accounts.UpdateUser(user.id, changes, mask, actor, **kw)
    return await accounts.update_user(
        command, uow=db.unit_of_work(), clock=clock, passwords=passwords, throttling=THROTTLING
    )


def _actor(user: User) -> Actor:
    return Actor(user.name, user.profile.role)


async def test_a_new_role_ends_the_sessions_that_carry_the_old_one(db, clock, passwords) -> None:
    admin = await _account(db, passwords, clock)
    librarian = await _account(db, passwords, clock, role=Role.LIBRARIAN)
    session = await open_session(db, librarian)
    await _update(db, clock, passwords, librarian, Profile(email="", role=Role.READER), DEMOTE, _actor(admin))
    assert db.sessions[session.id].revoke_reason == "role_changed"


async def test_other_changes_leave_the_sessions_alone(db, clock, passwords) -> None:
    admin = await _account(db, passwords, clock)
    librarian = await _account(db, passwords, clock, role=Role.LIBRARIAN)
    session = await open_session(db, librarian)
    changes = Profile(email="", display_name="Desk two")
    await _update(db, clock, passwords, librarian, changes, frozenset({"display_name"}), _actor(admin))
    assert db.sessions[session.id].revoked_at is None


@pytest.mark.parametrize(
    ("changes", "mask"),
    [
        (Profile(email="", role=Role.LIBRARIAN), DEMOTE),
        (Profile(email="", status=UserStatus.BLOCKED, status_reason="oops"), frozenset({"status", "status_reason"})),
    ],
    ids=["demoted", "blocked"],
)
async def test_the_last_active_admin_cannot_be_demoted_or_blocked(db, clock, passwords, changes, mask) -> None:
    admin = await _account(db, passwords, clock)
    with pytest.raises(FailedPrecondition) as refused:
        await _update(db, clock, passwords, admin, changes, mask, _actor(admin))
    assert refused.value.reason == "LAST_ADMIN"
    assert db.users[admin.id].profile.role == Role.ADMIN and db.users[admin.id].profile.status == UserStatus.ACTIVE


async def test_the_last_active_admin_cannot_be_deactivated(db, clock, passwords) -> None:
    admin = await _account(db, passwords, clock)
    with pytest.raises(FailedPrecondition) as refused:
        await accounts.delete_user(
            accounts.DeleteUser(admin.id, _actor(admin)),
            uow=db.unit_of_work(),
            clock=clock,
            circulation=FakeCirculation(),
        )
    assert refused.value.reason == "LAST_ADMIN" and db.users[admin.id].profile.status == UserStatus.ACTIVE


async def test_with_another_active_admin_one_may_step_down(db, clock, passwords) -> None:
    first, second = await _account(db, passwords, clock), await _account(db, passwords, clock)
    await _update(db, clock, passwords, first, Profile(email="", role=Role.LIBRARIAN), DEMOTE, _actor(first))
    with pytest.raises(FailedPrecondition):
        await _update(db, clock, passwords, second, Profile(email="", role=Role.READER), DEMOTE, _actor(second))


async def test_a_blocked_admin_does_not_count_as_one(db, clock, passwords) -> None:
    first, second = await _account(db, passwords, clock), await _account(db, passwords, clock)
    blocked = Profile(email="", status=UserStatus.BLOCKED)
    await _update(db, clock, passwords, first, blocked, frozenset({"status"}), _actor(second))
    with pytest.raises(FailedPrecondition):
        await accounts.delete_user(
            accounts.DeleteUser(second.id, _actor(second)),
            uow=db.unit_of_work(),
            clock=clock,
            circulation=FakeCirculation(),
        )


EXPIRE = frozenset({"expire_time"})
LAPSED = Profile(email="", expire_at=NOW - timedelta(days=1))


async def test_an_admin_whose_membership_expired_does_not_count_as_one(db, clock, passwords) -> None:
    first, second = await _account(db, passwords, clock), await _account(db, passwords, clock)
    await _update(db, clock, passwords, second, LAPSED, EXPIRE, _actor(first))  # second can no longer sign in
    with pytest.raises(FailedPrecondition) as demoting:
        await _update(db, clock, passwords, first, Profile(email="", role=Role.LIBRARIAN), DEMOTE, _actor(first))
    with pytest.raises(FailedPrecondition) as closing:
        await accounts.delete_user(
            accounts.DeleteUser(first.id, _actor(first)),
            uow=db.unit_of_work(),
            clock=clock,
            circulation=FakeCirculation(),
        )
    assert demoting.value.reason == closing.value.reason == "LAST_ADMIN"
    assert db.users[first.id].profile.role == Role.ADMIN and db.users[first.id].profile.status == UserStatus.ACTIVE


async def test_the_last_active_admin_cannot_be_made_to_expire(db, clock, passwords) -> None:
    admin = await _account(db, passwords, clock)
    with pytest.raises(FailedPrecondition) as refused:
        await _update(db, clock, passwords, admin, LAPSED, EXPIRE, _actor(admin))
    assert refused.value.reason == "LAST_ADMIN" and db.users[admin.id].profile.expire_at is None
    later = Profile(email="", expire_at=NOW + timedelta(days=365))  # still signs in today: not the guard's business
    kept = await _update(db, clock, passwords, admin, later, EXPIRE, _actor(admin))
    assert kept.profile.expire_at == NOW.replace(hour=23, minute=59, second=59) + timedelta(days=365)  # day's end


async def test_an_admin_whose_membership_lapsed_on_its_own_does_not_count_as_one(db, clock, passwords) -> None:
    first = await _account(db, passwords, clock)
    second = await _account(db, passwords, clock)
    soon = Profile(email="", expire_at=NOW + timedelta(hours=1))
    await _update(db, clock, passwords, second, soon, EXPIRE, _actor(first))
    clock.advance(timedelta(hours=12))  # past the end of that day: nobody stored EXPIRED, the time alone ran out
    with pytest.raises(FailedPrecondition):
        await _update(db, clock, passwords, first, Profile(email="", role=Role.READER), DEMOTE, _actor(first))


EMAIL = frozenset({"email"})


async def test_changing_ones_own_email_needs_ones_password(db, clock, passwords) -> None:
    reader = await _account(db, passwords, clock, role=Role.READER)
    moved = Profile(email="moved@example.org")
    with pytest.raises(InvalidArgument) as missing:
        await _update(db, clock, passwords, reader, moved, EMAIL, _actor(reader))
    assert missing.value.violations[0].field == "current_password"
    with pytest.raises(PermissionDenied) as wrong:
        await _update(db, clock, passwords, reader, moved, EMAIL, _actor(reader), current_password="Guess-1234")
    assert wrong.value.reason == "WRONG_PASSWORD" and db.users[reader.id].profile.email == reader.profile.email
    changed = await _update(db, clock, passwords, reader, moved, EMAIL, _actor(reader), current_password=PASSWORD)
    assert changed.profile.email == "moved@example.org"


async def test_wrong_current_passwords_are_throttled_like_sign_ins(db, clock, passwords) -> None:
    reader = await _account(db, passwords, clock, role=Role.READER)
    moved = Profile(email="moved@example.org")
    for _ in range(THROTTLING.account_from_client.free_failures + 1):
        with pytest.raises(PermissionDenied):
            await _update(db, clock, passwords, reader, moved, EMAIL, _actor(reader), current_password="Guess-1234")
    with pytest.raises(Throttled):
        await _update(db, clock, passwords, reader, moved, EMAIL, _actor(reader), current_password=PASSWORD)


async def test_staff_change_a_patrons_email_without_the_patrons_password(db, clock, passwords) -> None:
    librarian = await _account(db, passwords, clock, role=Role.LIBRARIAN)
    reader = await _account(db, passwords, clock, role=Role.READER)
    changed = await _update(db, clock, passwords, reader, Profile(email="new@example.org"), EMAIL, _actor(librarian))
    assert changed.profile.email == "new@example.org"


async def test_an_operator_restores_an_admin_or_creates_one(db, clock, passwords) -> None:
    admin = await _account(db, passwords, clock)
    await _account(db, passwords, clock)  # a second admin, so that the first may be blocked
    session = await open_session(db, admin)
    blocked = Profile(email="", status=UserStatus.BLOCKED, status_reason="left")
    await _update(db, clock, passwords, admin, blocked, frozenset({"status", "status_reason"}), _actor(admin))
    restore = admins.RestoreAdmin(admin.profile.email, "Brand-New-Secret-7")
    restored = await admins.restore_admin(restore, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert restored.id == admin.id and restored.profile.status == UserStatus.ACTIVE
    assert await passwords.verify(db.users[admin.id].password_hash, "Brand-New-Secret-7")
    assert db.sessions[session.id].revoked_at is not None
    created = await admins.restore_admin(
        admins.RestoreAdmin("new-admin@example.org", "Brand-New-Secret-7"),
        uow=db.unit_of_work(),
        clock=clock,
        passwords=passwords,
    )
    assert created.profile.role == Role.ADMIN and created.id != admin.id


async def test_a_restored_admin_is_confirmed_once_its_sign_outs_are_on_the_bus(db, clock, passwords) -> None:
    admin = await _account(db, passwords, clock)
    session = await open_session(db, admin)
    db.bus_reachable = False
    restore = admins.RestoreAdmin(admin.profile.email, "Brand-New-Secret-7")
    with pytest.raises(DependencyUnavailable) as unconfirmed:
        await admins.restore_admin(restore, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert "the admin is restored" in unconfirmed.value.message and "again to confirm" in unconfirmed.value.message
    assert db.sessions[session.id].revoked_at is not None and db.announced_after == [len(db.commits)]
    db.bus_reachable = True
    await admins.restore_admin(restore, uow=db.unit_of_work(), clock=clock, passwords=passwords)  # confirms it
    assert db.announced_after[-1] == len(db.commits)
