"""An account's home branch with the library's branches listed (ATHENAEUM_LIBRARY_BRANCHES): a librarian at a typo
branch had every desk return and receipt refused by loans, and a reader's holds defaulted to a pickup branch no
desk could receive at. CreateUser and UpdateUser now refuse a branch not listed and keep the list's spelling."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from services.support.runtime.branches import LibraryBranches
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import Role
from services.users.app import accounts
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile
from services.users.settings import UsersSettings

from ..conftest import THROTTLING
from ..fakes import FakePasswords, FakeUsersDatabase

ADMIN = Actor("users/00000000-0000-0000-0000-00000000000a", Role.ADMIN)
MAIN_AND_EAST = LibraryBranches.parse("MAIN,EAST")


async def _create(
    db: FakeUsersDatabase, clock: FixedClock, home_branch: str, branches: LibraryBranches = MAIN_AND_EAST
) -> User:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org", role=Role.LIBRARIAN, home_branch=home_branch)
    command = accounts.CreateUser(profile, "", ADMIN)
    return await accounts.create_user(
        command, uow=db.unit_of_work(), clock=clock, passwords=FakePasswords(), branches=branches
    )


async def _set_home_branch(
    db: FakeUsersDatabase, clock: FixedClock, user: User, home_branch: str, *, mask: frozenset[str] | None = None
) -> User:
    changes = Profile(email="", home_branch=home_branch, phone="+79991234567")
    command = accounts.UpdateUser(user.id, changes, mask or frozenset({"home_branch"}), ADMIN)
    return await accounts.update_user(
        command,
        uow=db.unit_of_work(),
        clock=clock,
        passwords=FakePasswords(),
        throttling=THROTTLING,
        branches=MAIN_AND_EAST,
    )


async def test_an_account_at_a_branch_the_library_does_not_list_is_not_created(db, clock) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await _create(db, clock, "WST")
    assert [(v.field, v.description) for v in refused.value.violations] == [
        ("user.home_branch", "'WST' is not a branch of this library: give one of MAIN, EAST")
    ]
    assert db.users == {}


async def test_a_bad_home_branch_is_named_with_the_other_bad_fields(db, clock) -> None:
    profile = Profile(email="not an email", home_branch="WST")
    with pytest.raises(InvalidArgument) as refused:
        await accounts.create_user(
            accounts.CreateUser(profile, "", ADMIN),
            uow=db.unit_of_work(),
            clock=clock,
            passwords=FakePasswords(),
            branches=MAIN_AND_EAST,
        )
    assert {v.field for v in refused.value.violations} == {"user.email", "user.home_branch"}


async def test_a_home_branch_is_kept_in_the_lists_spelling_and_none_stays_none(db, clock) -> None:
    assert (await _create(db, clock, " east ")).profile.home_branch == "EAST"
    assert (await _create(db, clock, "")).profile.home_branch == ""
    unlisted = LibraryBranches.parse("")
    assert (await _create(db, clock, " east ", unlisted)).profile.home_branch == "east"


async def test_a_home_branch_changed_to_one_not_listed_is_refused_and_the_account_keeps_its_own(db, clock) -> None:
    user = await _create(db, clock, "MAIN")
    with pytest.raises(InvalidArgument) as refused:
        await _set_home_branch(db, clock, user, "EATS")
    assert [v.field for v in refused.value.violations] == ["user.home_branch"]
    assert db.users[user.id].profile.home_branch == "MAIN"
    assert (await _set_home_branch(db, clock, user, "east")).profile.home_branch == "EAST"
    assert (await _set_home_branch(db, clock, user, "")).profile.home_branch == ""


async def test_an_account_made_before_the_list_keeps_its_branch_through_other_changes(db, clock) -> None:
    user = await _create(db, clock, "SOUTH", LibraryBranches.parse(""))
    updated = await _set_home_branch(db, clock, user, "ignored", mask=frozenset({"phone"}))
    assert (updated.profile.home_branch, updated.profile.phone) == ("SOUTH", "+79991234567")


def test_the_users_service_reads_the_librarys_branches_and_refuses_a_list_with_an_empty_code(monkeypatch) -> None:
    monkeypatch.setenv("ATHENAEUM_LIBRARY_BRANCHES", "MAIN, EAST")
    assert UsersSettings().branches.codes == ("MAIN", "EAST")
    monkeypatch.setenv("ATHENAEUM_LIBRARY_BRANCHES", "MAIN,,EAST")
    with pytest.raises(ValidationError, match="empty"):
        UsersSettings()
