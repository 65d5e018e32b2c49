"""An account made at the desk without a password gets its first one from staff, and a reader who forgot theirs a new
one, against a real Postgres."""

from __future__ import annotations

import uuid

import pytest

from services.support.runtime.errors import PermissionDenied
from services.support.runtime.identity import Role
from services.users.app import accounts, credentials, signing_in
from services.users.domain.accounts import Actor
from services.users.domain.profile import Profile

pytestmark = pytest.mark.integration

LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)
ADMIN = Actor("users/00000000-0000-0000-0000-00000000000a", Role.ADMIN)
FIRST = "Desk-One-Pass-1"


async def test_staff_set_a_readers_first_password_and_a_new_one_when_it_is_forgotten(users_db) -> None:
    email = f"desk-{uuid.uuid4().hex[:10]}@example.org"
    made = accounts.CreateUser(Profile(email=email), "", LIBRARIAN)
    user = await accounts.create_user(made, uow=users_db.uow(), clock=users_db.clock, passwords=users_db.passwords)
    first = credentials.ChangePassword(user.id, "", FIRST, LIBRARIAN, session_id="")
    await credentials.change_password(first, uow=users_db.uow(), **users_db.account_ports)
    assert (await _sign_in(users_db, email, FIRST)).user.id == user.id
    again = credentials.ChangePassword(user.id, "", "Desk-Two-Pass-2", LIBRARIAN, session_id="")
    await credentials.change_password(again, uow=users_db.uow(), **users_db.account_ports)  # forgotten: staff help
    assert (await _sign_in(users_db, email, "Desk-Two-Pass-2")).user.id == user.id


async def test_staff_set_a_staff_accounts_first_password_and_then_only_the_owner_changes_it(users_db) -> None:
    email = f"desk-{uuid.uuid4().hex[:10]}@example.org"
    made = accounts.CreateUser(Profile(email=email, role=Role.LIBRARIAN), "", ADMIN)
    user = await accounts.create_user(made, uow=users_db.uow(), clock=users_db.clock, passwords=users_db.passwords)
    first = credentials.ChangePassword(user.id, "", FIRST, ADMIN, session_id="")
    await credentials.change_password(first, uow=users_db.uow(), **users_db.account_ports)
    assert (await _sign_in(users_db, email, FIRST)).user.id == user.id
    again = credentials.ChangePassword(user.id, "", "Desk-Two-Pass-2", ADMIN, session_id="")
    with pytest.raises(PermissionDenied):
        await credentials.change_password(again, uow=users_db.uow(), **users_db.account_ports)


async def _sign_in(db, email: str, password: str) -> signing_in.SignedIn:
    command = signing_in.SignIn(email, password, client="203.0.113.9")
    return await signing_in.sign_in(command, uow=db.uow(), throttling=db.throttling, **db.auth)
