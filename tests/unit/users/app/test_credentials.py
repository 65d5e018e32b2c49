"""ChangePassword and the notification preferences a reader sets on their own account."""

from __future__ import annotations

import uuid

import pytest

from services.support.runtime.errors import InvalidArgument, PermissionDenied, Throttled
from services.support.runtime.identity import Role
from services.users.app import accounts, admins, credentials
from services.users.domain.accounts import Actor, PasswordChanged, User
from services.users.domain.profile import KindChoice, Profile
from services.users.domain.sessions import Session, SessionRevoked

from ..conftest import NOW, THROTTLING
from ..fakes import FakePasswords, FakeUsersDatabase

OLD, NEW = "Correct-Horse-42", "Battery-Staple-77"


async def _reader(db: FakeUsersDatabase, passwords: FakePasswords, clock) -> tuple[User, Actor]:
    command = accounts.CreateUser(
        Profile(email=f"{uuid.uuid4().hex[:8]}@example.org"), OLD, Actor("users/staff", Role.LIBRARIAN)
    )
    user = await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    return user, Actor(user.name, Role.READER)


def _sessions(db: FakeUsersDatabase, user: User, count: int) -> list[Session]:
    sessions = [Session.start(user.id, now=NOW) for _ in range(count)]
    for session in sessions:
        db.sessions[session.id] = session
    return sessions


def _change(
    user: User, actor: Actor, *, current: str = OLD, new: str = NEW, session: str = ""
) -> credentials.ChangePassword:
    return credentials.ChangePassword(user.id, current, new, actor, session)


async def test_a_password_change_keeps_the_callers_session_and_ends_the_others(db, clock, passwords) -> None:
    user, actor = await _reader(db, passwords, clock)
    mine, other, stolen = _sessions(db, user, 3)
    await credentials.change_password(
        _change(user, actor, session=str(mine.id)),
        uow=db.unit_of_work(),
        clock=clock,
        passwords=passwords,
        throttling=THROTTLING,
    )
    assert db.users[user.id].password_hash == f"v2${NEW}"
    assert db.sessions[mine.id].revoked_at is None
    assert {db.sessions[s.id].revoke_reason for s in (other, stolen)} == {"password_changed"}
    changed = [e for e in db.published if isinstance(e, PasswordChanged)]
    revoked = [e for e in db.published if isinstance(e, SessionRevoked)]
    assert [e.name for e in changed] == [user.name] and len(revoked) == 2
    assert db.users[user.id].version == user.version  # the resource clients see is unchanged: same etag


async def test_a_wrong_current_password_changes_nothing(db, clock, passwords) -> None:
    user, actor = await _reader(db, passwords, clock)
    (session,) = _sessions(db, user, 1)
    with pytest.raises(PermissionDenied) as error:
        await credentials.change_password(
            _change(user, actor, current="Not-The-Password-1"), uow=db.unit_of_work(), clock=clock,
            passwords=passwords, throttling=THROTTLING,
        )  # fmt: skip
    assert error.value.reason == "WRONG_PASSWORD"
    assert db.users[user.id].password_hash == f"v2${OLD}" and db.sessions[session.id].revoked_at is None
    assert not [e for e in db.published if isinstance(e, PasswordChanged)]


async def test_guessing_the_current_password_is_throttled(db, clock, passwords) -> None:
    user, actor = await _reader(db, passwords, clock)
    wrong = _change(user, actor, current="Not-The-Password-1")
    for _ in range(THROTTLING.account_from_client.free_failures + 1):
        with pytest.raises(PermissionDenied):
            await credentials.change_password(
                wrong, uow=db.unit_of_work(), clock=clock, passwords=passwords, throttling=THROTTLING
            )
    with pytest.raises(Throttled):
        await credentials.change_password(
            _change(user, actor), uow=db.unit_of_work(), clock=clock, passwords=passwords, throttling=THROTTLING
        )


@pytest.mark.parametrize(("current", "new", "field"), [("", NEW, "current_password"), (OLD, "short", "new_password")])
async def test_a_missing_current_or_weak_new_password_is_named(db, clock, passwords, current, new, field) -> None:
    user, actor = await _reader(db, passwords, clock)
    with pytest.raises(InvalidArgument) as error:
        await credentials.change_password(
            _change(user, actor, current=current, new=new), uow=db.unit_of_work(), clock=clock,
            passwords=passwords, throttling=THROTTLING,
        )  # fmt: skip
    assert [v.field for v in error.value.violations] == [field]


async def test_a_reader_does_not_change_another_readers_password(db, clock, passwords) -> None:
    user, _ = await _reader(db, passwords, clock)
    with pytest.raises(PermissionDenied) as refused:
        await credentials.change_password(
            _change(user, Actor("users/someone-else", Role.READER), current=""), uow=db.unit_of_work(), clock=clock,
            passwords=passwords, throttling=THROTTLING,
        )  # fmt: skip
    assert refused.value.reason == "NOT_OWN_ACCOUNT" and db.users[user.id].password_hash == f"v2${OLD}"


async def test_a_reader_gets_the_same_refusal_for_another_account_and_an_unknown_one(db, clock, passwords) -> None:
    """It was 403 for an existing account and 404 for an unknown id: an oracle of which ids exist."""
    other, _ = await _reader(db, passwords, clock)
    _, actor = await _reader(db, passwords, clock)
    answers = []
    for user_id in (other.id, uuid.uuid4()):
        with pytest.raises(PermissionDenied) as refused:
            await credentials.change_password(
                credentials.ChangePassword(user_id, OLD, NEW, actor, ""), uow=db.unit_of_work(), clock=clock,
                passwords=passwords, throttling=THROTTLING,
            )  # fmt: skip
        answers.append((type(refused.value), refused.value.reason, str(refused.value)))
    assert answers[0] == answers[1] and answers[0][1] == "NOT_OWN_ACCOUNT"


@pytest.mark.parametrize("role", [Role.LIBRARIAN, Role.ADMIN])
async def test_staff_set_a_readers_forgotten_password_signing_out_every_session(db, clock, passwords, role) -> None:
    user, _ = await _reader(db, passwords, clock)
    sessions = _sessions(db, user, 2)
    staff = Actor(f"users/{uuid.uuid4()}", role)
    await credentials.change_password(
        _change(user, staff, current=""), uow=db.unit_of_work(), clock=clock, passwords=passwords,
        throttling=THROTTLING,
    )  # fmt: skip
    assert db.users[user.id].password_hash == f"v2${NEW}"
    assert {db.sessions[s.id].revoke_reason for s in sessions} == {"password_changed"}
    (changed,) = [e for e in db.published if isinstance(e, PasswordChanged)]
    assert (changed.name, changed.changed_by, changed.method) == (user.name, staff.name, "staff")


@pytest.mark.parametrize(
    ("owner", "actor"),
    [(Role.ADMIN, Role.ADMIN), (Role.LIBRARIAN, Role.ADMIN), (Role.ADMIN, Role.LIBRARIAN)],
)
async def test_a_staff_accounts_password_is_changed_only_by_its_owner(db, clock, passwords, owner, actor) -> None:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org", role=owner)
    staff = await accounts.create_user(
        accounts.CreateUser(profile, OLD, admins.OPERATOR), uow=db.unit_of_work(), clock=clock, passwords=passwords
    )
    with pytest.raises(PermissionDenied) as refused:
        await credentials.change_password(
            _change(staff, Actor(f"users/{uuid.uuid4()}", actor), current=""), uow=db.unit_of_work(), clock=clock,
            passwords=passwords, throttling=THROTTLING,
        )  # fmt: skip
    assert refused.value.reason == "NOT_OWN_ACCOUNT" and db.users[staff.id].password_hash == f"v2${OLD}"


async def _without_password(db: FakeUsersDatabase, passwords: FakePasswords, clock, role: Role = Role.READER) -> User:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org", role=role)
    command = accounts.CreateUser(profile, "", admins.OPERATOR)  # made at the desk: cannot sign in yet
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


async def _set_first(db, clock, passwords, user: User, actor: Actor) -> None:  # type: ignore[no-untyped-def]
    await credentials.change_password(
        _change(user, actor, current=""), uow=db.unit_of_work(), clock=clock, passwords=passwords,
        throttling=THROTTLING,
    )  # fmt: skip


async def test_staff_give_an_account_made_without_a_password_its_first_one(db, clock, passwords) -> None:
    reader = await _without_password(db, passwords, clock)
    await _set_first(db, clock, passwords, reader, Actor("users/desk", Role.LIBRARIAN))
    assert db.users[reader.id].password_hash == f"v2${NEW}"
    assert [e.name for e in db.published if isinstance(e, PasswordChanged)] == [reader.name]  # the owner is told


@pytest.mark.parametrize(
    ("role", "actor", "reason"),
    [
        (Role.READER, Actor("users/another-reader", Role.READER), "NOT_OWN_ACCOUNT"),
        (Role.LIBRARIAN, Actor("users/desk", Role.LIBRARIAN), "STAFF_ACCOUNT"),
    ],
)
async def test_a_first_password_is_set_only_by_staff_who_may_change_the_account(
    db, clock, passwords, role: Role, actor: Actor, reason: str
) -> None:
    user = await _without_password(db, passwords, clock, role=role)
    with pytest.raises(PermissionDenied) as refused:
        await _set_first(db, clock, passwords, user, actor)
    assert refused.value.reason == reason and db.users[user.id].password_hash == ""


async def test_a_reader_sets_channels_per_kind_language_and_time_zone(db, clock, passwords) -> None:
    user, actor = await _reader(db, passwords, clock)
    wanted = Profile(
        email="", sms_opt_in=True, kind_choices=(KindChoice("hold_ready", True, False),), locale="ru",
        time_zone="Europe/Moscow",
    )  # fmt: skip
    mask = frozenset({"notification_preferences.sms_opt_in", "notification_preferences.kinds", "locale", "time_zone"})
    updated = await accounts.update_user(
        accounts.UpdateUser(user.id, wanted, mask, actor),
        uow=db.unit_of_work(),
        clock=clock,
        passwords=passwords,
        throttling=THROTTLING,
    )
    p = updated.profile
    assert p.email_opt_in and p.sms_opt_in  # a part of the preferences leaves the other parts alone
    assert p.kind_choices == (KindChoice("hold_ready", True, False),)
    assert (p.locale, p.time_zone) == ("ru", "Europe/Moscow")


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        (Profile(email="", time_zone="Mars/Olympus"), "user.time_zone"),
        (Profile(email="", time_zone="../../etc/passwd"), "user.time_zone"),
        (Profile(email="", time_zone="Europe"), "user.time_zone"),  # a folder of the zone database
        (Profile(email="", time_zone="Atlantis" * 40), "user.time_zone"),  # too long for a file's name
        (Profile(email="", locale="Klingon!"), "user.locale"),
        (Profile(email="", kind_choices=(KindChoice("spam", True, True),)), "user.notification_preferences.kinds"),
    ],
)
async def test_bad_preferences_are_named(db, clock, passwords, profile, field) -> None:
    user, actor = await _reader(db, passwords, clock)
    mask = frozenset({"time_zone", "locale", "notification_preferences"})
    with pytest.raises(InvalidArgument) as error:
        await accounts.update_user(
            accounts.UpdateUser(user.id, profile, mask, actor),
            uow=db.unit_of_work(),
            clock=clock,
            passwords=passwords,
            throttling=THROTTLING,
        )
    assert field in [v.field for v in error.value.violations]


async def test_an_unknown_part_of_the_preferences_is_refused(db, clock, passwords) -> None:
    user, actor = await _reader(db, passwords, clock)
    mask = frozenset({"notification_preferences.pigeon_opt_in"})
    with pytest.raises(InvalidArgument):
        await accounts.update_user(
            accounts.UpdateUser(user.id, Profile(email=""), mask, actor),
            uow=db.unit_of_work(),
            clock=clock,
            passwords=passwords,
            throttling=THROTTLING,
        )
