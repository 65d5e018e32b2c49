"""The desk's scan of a card number (or an email typed whole) finds that account alone, by the exact-match path
that the unique indexes serve, before any substring search (findings-scale F4; Koha tries the cardnumber first)."""

from __future__ import annotations

from datetime import timedelta

from services.support.runtime.clock import FixedClock
from services.support.runtime.identity import Role
from services.users.app import accounts
from services.users.app.ports import UserFilter
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile

from ..fakes import FakePasswords, FakeUsersDatabase

LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)


async def _create(db: FakeUsersDatabase, clock: FixedClock, passwords: FakePasswords, **profile: object) -> User:
    clock.advance(timedelta(seconds=1))  # newest first: each account after the one before
    command = accounts.CreateUser(Profile(**profile), "", LIBRARIAN)  # type: ignore[arg-type]
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


async def _found(db: FakeUsersDatabase, clock: FixedClock, where: UserFilter) -> tuple[list[str], int]:
    page = await accounts.list_users(accounts.ListUsers(where, page_size=10), uow=db.unit_of_work(), clock=clock)
    return [u.profile.email for u in page.items], page.total_size


async def test_a_scanned_card_number_finds_its_account_alone(db, clock, passwords) -> None:
    reader = await _create(db, clock, passwords, email="reader@example.org")
    # A newer account whose email holds the card number: the substring search listed it first.
    await _create(db, clock, passwords, email=f"{reader.card_number}-x@example.org")
    assert await _found(db, clock, UserFilter(text=reader.card_number)) == (["reader@example.org"], 1)


async def test_an_email_typed_whole_in_any_case_finds_its_account_alone(db, clock, passwords) -> None:
    await _create(db, clock, passwords, email="ann@example.org")
    await _create(db, clock, passwords, email="joann@example.org")
    assert await _found(db, clock, UserFilter(text="Ann@Example.ORG")) == (["ann@example.org"], 1)


async def test_other_text_is_still_searched_as_a_substring(db, clock, passwords) -> None:
    await _create(db, clock, passwords, email="ann@example.org", display_name="Anna Petrova")
    await _create(db, clock, passwords, email="joann@example.org", display_name="Ivan Petrov")
    assert await _found(db, clock, UserFilter(text="ann@")) == (["joann@example.org", "ann@example.org"], 2)
    assert await _found(db, clock, UserFilter(text="petrov")) == (["joann@example.org", "ann@example.org"], 2)


async def test_an_exact_match_the_other_filters_leave_out_gives_way_to_the_substring_search(
    db, clock, passwords
) -> None:
    reader = await _create(db, clock, passwords, email="reader@example.org", patron_category="ADULT")
    await _create(db, clock, passwords, email=f"{reader.card_number}-x@example.org", patron_category="CHILD")
    where = UserFilter(text=reader.card_number, patron_category="CHILD")
    assert await _found(db, clock, where) == ([f"{reader.card_number}-x@example.org"], 1)
