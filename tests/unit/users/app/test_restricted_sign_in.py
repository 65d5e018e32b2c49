"""A BLOCKED or EXPIRED account signs in to read why, what it has out and what it owes: its tokens say so
(`st`) and carry a reader's role whatever its own; a closed account is still refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.support.runtime.errors import PermissionDenied, Unauthenticated
from services.support.runtime.identity import Role
from services.users.app import accounts, signing_in, signing_keys
from services.users.domain.access_tokens import verify_access_token
from services.users.domain.accounts import SETTLED, Actor
from services.users.domain.profile import Profile, UserStatus

from ..conftest import LIFETIMES, NOW, THROTTLING
from ..fakes import FakePasswords, FakeUsersDatabase

PASSWORD = "Correct-Horse-42"
ADMIN = Actor("users/00000000-0000-0000-0000-00000000000a", Role.ADMIN)


@pytest.fixture
def auth(db, clock, passwords, keys):
    return {"clock": clock, "passwords": passwords, "keys": keys, "lifetimes": LIFETIMES}


async def _account(db: FakeUsersDatabase, passwords: FakePasswords, clock, role: Role, **profile: object):
    fields = {"email": "ada@example.org", "role": role, **profile}
    command = accounts.CreateUser(Profile(**fields), PASSWORD, ADMIN)  # type: ignore[arg-type]
    return await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)


async def _sign_in(db: FakeUsersDatabase, auth: dict) -> signing_in.SignedIn:
    command = signing_in.SignIn("ada@example.org", PASSWORD, client="203.0.113.7")
    return await signing_in.sign_in(command, uow=db.unit_of_work(), throttling=THROTTLING, **auth)


async def _claims(auth: dict, token: str) -> dict:
    jwks = await signing_keys.list_public_keys(keys=auth["keys"], clock=auth["clock"], lifetimes=LIFETIMES)
    return verify_access_token(token, jwks, now=auth["clock"].now())


@pytest.mark.parametrize("role", [Role.READER, Role.LIBRARIAN])
async def test_a_blocked_account_signs_in_as_a_reader_whose_token_says_blocked(
    db, auth, passwords, clock, role
) -> None:
    user = await _account(db, passwords, clock, role, status=UserStatus.BLOCKED, status_reason="damaged book")
    signed_in = await _sign_in(db, auth)
    assert signed_in.user.profile.status == UserStatus.BLOCKED
    assert signed_in.user.profile.status_reason == "damaged book"  # the profile carries the staff's reason
    claims = await _claims(auth, signed_in.access.token)
    assert (claims["sub"], claims["st"], claims["role"]) == (user.name, "blocked", "reader")


async def test_an_expired_member_signs_in_restricted_and_refreshes_so(db, auth, passwords, clock) -> None:
    await _account(db, passwords, clock, Role.READER, expire_at=NOW - timedelta(days=1))
    signed_in = await _sign_in(db, auth)
    assert (await _claims(auth, signed_in.access.token))["st"] == "expired"
    refreshed = await signing_in.refresh_session(
        signing_in.RefreshSession(signed_in.refresh_token), uow=db.unit_of_work(), clock=clock, keys=auth["keys"],
        lifetimes=LIFETIMES,
    )  # fmt: skip
    assert (await _claims(auth, refreshed.access.token))["st"] == "expired"


async def test_an_active_account_s_token_says_active_with_its_own_role(db, auth, passwords, clock) -> None:
    await _account(db, passwords, clock, Role.LIBRARIAN)
    claims = await _claims(auth, (await _sign_in(db, auth)).access.token)
    assert (claims["st"], claims["role"]) == ("active", "librarian")


async def test_a_closed_account_is_still_refused(db, auth, passwords, clock) -> None:
    user = await _account(db, passwords, clock, Role.READER)
    db.users[user.id].deactivate(actor=ADMIN, now=NOW, standing=SETTLED)
    with pytest.raises(PermissionDenied) as refused:
        await _sign_in(db, auth)
    assert refused.value.reason == "ACCOUNT_DEACTIVATED"


async def test_lifting_a_block_signs_the_reader_out_so_their_read_only_tokens_end(db, auth, passwords, clock) -> None:
    user = await _account(db, passwords, clock, Role.READER, status=UserStatus.BLOCKED)
    signed_in = await _sign_in(db, auth)
    lifted = accounts.UpdateUser(user.id, Profile(email="", status=UserStatus.ACTIVE), frozenset({"status"}), ADMIN)
    await accounts.update_user(lifted, uow=db.unit_of_work(), clock=clock, passwords=passwords, throttling=THROTTLING)
    (session,) = db.sessions.values()
    assert session.revoke_reason == "account_active"
    with pytest.raises(Unauthenticated):
        await signing_in.refresh_session(
            signing_in.RefreshSession(signed_in.refresh_token), uow=db.unit_of_work(), clock=clock,
            keys=auth["keys"], lifetimes=LIFETIMES,
        )  # fmt: skip
