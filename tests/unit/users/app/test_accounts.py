"""Account use cases through the in-memory unit of work: each main path, and each refusal leaves nothing behind."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.support.runtime.clock import FixedClock
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import (
    AlreadyExists,
    Conflict,
    DependencyUnavailable,
    InvalidArgument,
    PermissionDenied,
)
from services.support.runtime.identity import Role
from services.users.app import accounts, admins
from services.users.app.ports import UserFilter
from services.users.domain import accounts as account_rules
from services.users.domain.accounts import Actor, User, UserNotFound, UserRegistered, UserStatusChanged, UserUpdated
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.sessions import SessionRevoked

from ..conftest import NOW, THROTTLING, open_session
from ..fakes import FakeCirculation, FakePasswords, FakeUsersDatabase

ADMIN = Actor("users/00000000-0000-0000-0000-00000000000a", Role.ADMIN)
LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)
PASSWORD = "Correct-Horse-42"


async def _create(db: FakeUsersDatabase, clock: FixedClock, passwords: FakePasswords, **profile: object) -> User:
    fields = {"email": f"{uuid.uuid4().hex[:8]}@example.org", **profile}
    command = accounts.CreateUser(Profile(**fields), "", LIBRARIAN)  # type: ignore[arg-type]
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


def _ports(passwords: FakePasswords) -> dict[str, object]:
    """The ports update_user takes besides the unit of work and the clock."""
    return {"passwords": passwords, "throttling": THROTTLING}


async def _stored(db: FakeUsersDatabase, user_id: uuid.UUID) -> User:
    return await accounts.get_user(accounts.GetUser(user_id), uow=db.unit_of_work())


async def test_the_desk_creates_a_reader_with_a_hashed_password_and_announces_it(db, clock, passwords) -> None:
    command = accounts.CreateUser(Profile(email="Ada@Example.org", display_name="Ada"), PASSWORD, LIBRARIAN)
    user = await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    stored = await _stored(db, user.id)
    assert stored.profile.email == "ada@example.org" and stored.password_hash == f"v2${PASSWORD}"
    (registered,) = db.published
    assert isinstance(registered, UserRegistered) and registered.created_by == LIBRARIAN.name


async def test_an_account_without_a_password_is_created_without_hashing(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    assert (await _stored(db, user.id)).password_hash == "" and passwords.hashed == []


async def test_a_repeated_request_id_returns_the_first_account(db, clock, passwords) -> None:
    command = accounts.CreateUser(Profile(email="ada@example.org"), "", LIBRARIAN, request_id=uuid.uuid4())
    first = await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    again = await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert again.id == first.id and len(db.users) == 1 and len(db.published) == 1


async def test_every_bad_field_is_named_before_any_hashing(db, clock, passwords) -> None:
    command = accounts.CreateUser(Profile(email="nope", phone="8-800"), "short", LIBRARIAN)
    with pytest.raises(InvalidArgument) as error:
        await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert [v.field for v in error.value.violations] == ["user.email", "user.phone", "password"]
    assert passwords.hashed == [] and db.users == {} and db.commits == []


async def test_a_taken_email_is_refused(db, clock, passwords) -> None:
    await _create(db, clock, passwords, email="ada@example.org")
    with pytest.raises(AlreadyExists):
        await _create(db, clock, passwords, email="ADA@example.org")
    assert len(db.users) == 1


async def test_only_an_admin_creates_staff(db, clock, passwords) -> None:
    staff = Profile(email="new.staff@example.org", role=Role.LIBRARIAN)
    with pytest.raises(PermissionDenied):
        await accounts.create_user(
            accounts.CreateUser(staff, "", LIBRARIAN), uow=db.unit_of_work(), clock=clock, passwords=passwords
        )
    made = await accounts.create_user(
        accounts.CreateUser(staff, "", ADMIN), uow=db.unit_of_work(), clock=clock, passwords=passwords
    )
    assert (await _stored(db, made.id)).profile.role == Role.LIBRARIAN


async def test_a_colliding_card_number_is_drawn_again(db, clock, passwords, monkeypatch) -> None:
    taken = await _create(db, clock, passwords)
    draws = iter([taken.card_number, taken.card_number, "29000000000001"])
    monkeypatch.setattr(account_rules, "new_card_number", lambda: next(draws))
    assert (await _create(db, clock, passwords)).card_number == "29000000000001"


async def test_card_numbers_that_always_collide_end_in_a_conflict(db, clock, passwords, monkeypatch) -> None:
    taken = await _create(db, clock, passwords)
    monkeypatch.setattr(account_rules, "new_card_number", lambda: taken.card_number)
    with pytest.raises(Conflict) as error:
        await _create(db, clock, passwords)
    assert error.value.reason == "CARD_NUMBER_EXHAUSTED" and len(db.users) == 1


async def test_an_unknown_user_is_not_found(db) -> None:
    with pytest.raises(UserNotFound):
        await accounts.get_user(accounts.GetUser(uuid.uuid4()), uow=db.unit_of_work())


async def test_lists_are_newest_first_filtered_and_paged(db, clock, passwords) -> None:
    made = []
    for n in range(5):
        made.append(await _create(db, clock, passwords, email=f"marker-{n}@example.org"))
        clock.advance(timedelta(seconds=1))
    await _create(db, clock, passwords, email="someone-else@example.org")
    where = UserFilter(role=Role.READER, text="MARKER")
    first = await accounts.list_users(accounts.ListUsers(where, page_size=3), uow=db.unit_of_work(), clock=clock)
    rest = accounts.ListUsers(where, page_size=3, page_token=first.next_page_token)
    second = await accounts.list_users(rest, uow=db.unit_of_work(), clock=clock)
    assert [u.id for u in first.items + second.items] == [u.id for u in reversed(made)]
    assert first.total_size == 5 and second.next_page_token == ""


async def test_a_page_token_only_serves_the_filter_it_was_issued_for(db, clock, passwords) -> None:
    for _ in range(3):
        await _create(db, clock, passwords)
    first = await accounts.list_users(accounts.ListUsers(UserFilter(), page_size=1), uow=db.unit_of_work(), clock=clock)
    other_filter = accounts.ListUsers(UserFilter(text="x"), page_size=1, page_token=first.next_page_token)
    for command in (other_filter, accounts.ListUsers(UserFilter(), page_token="not-a-token")):
        with pytest.raises(InvalidArgument):
            await accounts.list_users(command, uow=db.unit_of_work(), clock=clock)


async def test_an_update_changes_the_masked_fields_and_the_etag(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    change = accounts.UpdateUser(
        user.id, Profile(email="", display_name="Ada"), frozenset({"display_name"}), LIBRARIAN, etag=user.etag
    )
    updated = await accounts.update_user(change, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
    stored = await _stored(db, user.id)
    assert stored.profile.display_name == "Ada" and stored.etag == updated.etag != user.etag
    assert isinstance(db.published[-1], UserUpdated)


async def test_an_update_from_a_stale_read_is_refused(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    change = accounts.UpdateUser(
        user.id, Profile(email="", display_name="First"), frozenset({"display_name"}), LIBRARIAN, etag=user.etag
    )
    await accounts.update_user(change, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
    with pytest.raises(Conflict) as error:
        await accounts.update_user(change, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
    assert error.value.reason == "STALE_ETAG"


async def test_of_two_concurrent_updates_the_second_to_save_loses(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    slow = db.unit_of_work()
    async with slow:
        mine = await slow.users.get(user.id)  # read before the other update commits
        change = accounts.UpdateUser(user.id, Profile(email="", phone="+79991234567"), frozenset({"phone"}), LIBRARIAN)
        await accounts.update_user(change, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
        mine.update(Profile(email="", display_name="Mine"), frozenset({"display_name"}), actor=LIBRARIAN, now=NOW)
        with pytest.raises(Conflict) as error:
            await slow.users.save(mine)
    assert error.value.reason == CONCURRENT_UPDATE
    assert (await _stored(db, user.id)).profile.display_name == ""


async def test_an_update_names_at_least_one_field(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    with pytest.raises(InvalidArgument):
        await accounts.update_user(
            accounts.UpdateUser(user.id, Profile(email=""), frozenset(), LIBRARIAN),
            uow=db.unit_of_work(),
            clock=clock,
            **_ports(passwords),
        )


async def test_a_reader_cannot_change_another_account(db, clock, passwords) -> None:
    user, other = await _create(db, clock, passwords), await _create(db, clock, passwords)
    reader = Actor(other.name, Role.READER)
    change = accounts.UpdateUser(user.id, Profile(email="", display_name="x"), frozenset({"display_name"}), reader)
    with pytest.raises(PermissionDenied):
        await accounts.update_user(change, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
    assert (await _stored(db, user.id)).version == 1


async def test_blocking_a_patron_ends_their_sessions(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    session = await open_session(db, user)
    blocked = Profile(email="", status=UserStatus.BLOCKED, status_reason="lost card")
    change = accounts.UpdateUser(user.id, blocked, frozenset({"status", "status_reason"}), LIBRARIAN)
    await accounts.update_user(change, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
    assert db.sessions[session.id].revoke_reason == "account_blocked"
    assert {type(e) for e in db.commits[-1].events} == {UserUpdated, UserStatusChanged, SessionRevoked}


async def test_deleting_deactivates_once_and_ends_every_session(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords)
    session = await open_session(db, user)
    command = accounts.DeleteUser(user.id, LIBRARIAN)
    for _ in range(2):
        deleted = await accounts.delete_user(command, uow=db.unit_of_work(), clock=clock, circulation=FakeCirculation())
    assert deleted.profile.status == UserStatus.DEACTIVATED and deleted.version == 2
    assert db.sessions[session.id].revoke_reason == "account_deactivated"
    assert [type(e) for e in db.published].count(UserStatusChanged) == 1


async def test_a_block_or_a_closed_account_is_confirmed_only_once_the_bus_has_it(db, clock, passwords) -> None:
    """Loans lends by a projection of accounts: the desk must not be told "blocked" while loans cannot know."""
    user = await _create(db, clock, passwords)
    db.bus_reachable = False
    block = accounts.UpdateUser(
        user.id, Profile(email="", status=UserStatus.BLOCKED), frozenset({"status"}), LIBRARIAN, etag=user.etag
    )
    with pytest.raises(DependencyUnavailable, match="saved"):
        await accounts.update_user(block, uow=db.unit_of_work(), clock=clock, **_ports(passwords))
    with pytest.raises(DependencyUnavailable):
        await accounts.delete_user(
            accounts.DeleteUser(user.id, LIBRARIAN), uow=db.unit_of_work(), clock=clock, circulation=FakeCirculation()
        )
    assert (await _stored(db, user.id)).profile.status == UserStatus.DEACTIVATED  # saved all the same
    db.bus_reachable = True
    again = accounts.DeleteUser(user.id, LIBRARIAN)  # sent again: confirmed once the bus has it
    assert (
        await accounts.delete_user(again, uow=db.unit_of_work(), clock=clock, circulation=FakeCirculation())
    ).version == 3


async def test_a_reader_cannot_delete_another_account(db, clock, passwords) -> None:
    user, other = await _create(db, clock, passwords), await _create(db, clock, passwords)
    command = accounts.DeleteUser(user.id, Actor(other.name, Role.READER))
    with pytest.raises(PermissionDenied):
        await accounts.delete_user(command, uow=db.unit_of_work(), clock=clock, circulation=FakeCirculation())
    assert (await _stored(db, user.id)).profile.status == UserStatus.ACTIVE


async def test_eligibility_follows_status_and_membership_expiry(db, clock, passwords) -> None:
    user = await _create(db, clock, passwords, expire_at=NOW + timedelta(days=1))
    command = accounts.GetBorrowingEligibility(user.id)
    _, today = await accounts.get_borrowing_eligibility(command, uow=db.unit_of_work(), clock=clock)
    clock.advance(timedelta(days=2))
    _, later = await accounts.get_borrowing_eligibility(command, uow=db.unit_of_work(), clock=clock)
    assert today.eligible and today.status == UserStatus.ACTIVE
    assert not later.eligible and later.status == UserStatus.EXPIRED and later.reasons == ("membership expired",)


async def test_the_first_admin_is_created_once(db, clock, passwords) -> None:
    command = admins.BootstrapAdmin("Admin@Athenaeum.local", "dev-only-admin-password")
    for _ in range(2):
        await admins.bootstrap_admin(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    (admin,) = db.users.values()
    assert admin.profile.email == "admin@athenaeum.local" and admin.profile.role == Role.ADMIN
    assert passwords.hashed == ["dev-only-admin-password"]


async def test_no_bootstrap_admin_without_a_password(db, clock, passwords) -> None:
    command = admins.BootstrapAdmin("admin@athenaeum.local", "")
    await admins.bootstrap_admin(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    assert db.users == {}
