"""Sign-up, sign-in, refresh and sign-out through the in-memory unit of work (failed sign-ins:
test_failed_sign_ins.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.support.runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.users.app import signing_in
from services.users.domain.access_tokens import verify_access_token
from services.users.domain.accounts import UserRegistered
from services.users.domain.profile import KindChoice, Profile, UserStatus
from services.users.domain.sessions import RefreshTokenReused, SessionRevoked, UserLoggedIn
from services.users.domain.throttling import account_key

from ..conftest import LIFETIMES
from ..fakes import FakePasswords
from .conftest import PASSWORD, public_keys, refresh, register, sign_in


async def test_registration_makes_a_reader_whatever_is_asked_and_signs_them_in(db, auth) -> None:
    signed_in = await register(db, auth)
    claims = verify_access_token(signed_in.access.token, await public_keys(auth), now=auth["clock"].now())
    assert claims["sub"] == signed_in.user.name and claims["role"] == "reader"
    assert [type(e) for e in db.published] == [UserRegistered, UserLoggedIn]
    assert len(db.refresh_tokens) == 1 and signed_in.refresh_token not in db.refresh_tokens


async def test_registration_keeps_the_reader_s_choices_per_kind(db, auth) -> None:
    """They were dropped: a reader who asked for loan receipts got none, and SMS they had refused."""
    choices = (KindChoice("loan_issued", True, True), KindChoice("hold_ready", True, False))
    profile = Profile(email="ada@example.org", sms_opt_in=True, kind_choices=choices)
    signed_in = await signing_in.register(signing_in.Register(profile, PASSWORD), uow=db.unit_of_work(), **auth)
    assert sorted(signed_in.user.profile.kind_choices, key=lambda c: c.kind) == sorted(choices, key=lambda c: c.kind)


async def test_registration_keeps_the_language_and_zone_the_reader_signed_up_in(db, auth) -> None:
    """They were dropped: the welcome, written from the UserRegistered event, came in the library's default."""
    profile = Profile(email="olga@example.org", locale="ru", time_zone="Europe/Moscow")
    signed_in = await signing_in.register(signing_in.Register(profile, PASSWORD), uow=db.unit_of_work(), **auth)
    assert (signed_in.user.profile.locale, signed_in.user.profile.time_zone) == ("ru", "Europe/Moscow")
    registered = next(event for event in db.published if isinstance(event, UserRegistered))
    assert registered.user.profile.locale == "ru"


async def test_a_registration_in_an_unknown_language_is_refused_by_field(db, auth) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await signing_in.register(
            signing_in.Register(Profile(email="olga@example.org", locale="xx_!!"), PASSWORD),
            uow=db.unit_of_work(),
            **auth,
        )
    assert [violation.field for violation in refused.value.violations] == ["locale"]


async def test_a_weak_password_is_refused_before_hashing(db, auth, passwords) -> None:
    with pytest.raises(InvalidArgument) as error:
        await signing_in.register(
            signing_in.Register(Profile(email="ada@example.org"), "password123"), uow=db.unit_of_work(), **auth
        )
    assert [v.field for v in error.value.violations] == ["password"] and passwords.hashed == []


async def test_a_repeated_registration_request_returns_the_same_account(db, auth) -> None:
    request_id = uuid.uuid4()
    first = await register(db, auth, request_id=request_id)
    again = await register(db, auth, request_id=request_id)
    assert again.user.id == first.user.id and len(db.users) == 1


async def test_a_registration_request_id_does_not_serve_another_password(db, auth) -> None:
    request_id = uuid.uuid4()
    await register(db, auth, request_id=request_id)
    other = signing_in.Register(Profile(email="ada@example.org"), "Another-Horse-43", request_id=request_id)
    with pytest.raises(InvalidArgument):
        await signing_in.register(other, uow=db.unit_of_work(), **auth)


async def test_signing_in_returns_verifiable_tokens_and_announces_it(db, auth) -> None:
    registered = await register(db, auth)
    signed_in = await sign_in(db, auth, email=" ADA@example.org ")
    assert (
        verify_access_token(signed_in.access.token, await public_keys(auth), now=auth["clock"].now())["sub"]
        == registered.user.name
    )
    assert isinstance(db.published[-1], UserLoggedIn)
    assert db.throttles[account_key("ada@example.org", "203.0.113.7")].failures == 0


@pytest.mark.parametrize(("email", "password", "field"), [("", PASSWORD, "email"), ("a@b.org", "", "password")])
async def test_sign_in_names_the_missing_credential(db, auth, email: str, password: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        await sign_in(db, auth, email=email, password=password)
    assert error.value.violations[0].field == field and db.commits == []


async def test_a_hash_with_older_parameters_is_upgraded_in_the_sign_in_transaction(db, auth) -> None:
    registered = await register(db, {**auth, "passwords": FakePasswords(scheme="v1")})
    assert db.users[registered.user.id].password_hash == f"v1${PASSWORD}"
    await sign_in(db, auth)
    assert db.users[registered.user.id].password_hash == f"v2${PASSWORD}"
    sign_in_commit = db.commits[-1]
    assert "users" in sign_in_commit.tables and "sessions" in sign_in_commit.tables
    assert [type(e) for e in sign_in_commit.events] == [UserLoggedIn]


async def test_a_current_hash_is_left_alone(db, auth, passwords) -> None:
    await register(db, auth)
    await sign_in(db, auth)
    assert passwords.hashed == [PASSWORD] and "users" not in db.commits[-1].tables


async def test_a_failed_sign_in_upgrades_nothing(db, auth) -> None:
    registered = await register(db, {**auth, "passwords": FakePasswords(scheme="v1")})
    with pytest.raises(Unauthenticated):
        await sign_in(db, auth, password="Wrong-Password-1")
    assert db.users[registered.user.id].password_hash == f"v1${PASSWORD}"


async def test_a_refresh_token_buys_one_new_pair(db, auth) -> None:
    first = await register(db, auth)
    second = await refresh(db, auth, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert verify_access_token(second.access.token, await public_keys(auth), now=auth["clock"].now())["sid"] == str(
        db.refresh_tokens[next(iter(db.refresh_tokens))].session_id
    )


async def test_a_replayed_refresh_token_revokes_the_session_for_good(db, auth) -> None:
    first = await register(db, auth)
    second = await refresh(db, auth, first.refresh_token)
    with pytest.raises(RefreshTokenReused):
        await refresh(db, auth, first.refresh_token)
    with pytest.raises(Unauthenticated) as error:  # the revocation was committed although the replay failed
        await refresh(db, auth, second.refresh_token)
    assert error.value.reason == "REFRESH_TOKEN_REVOKED" and isinstance(db.published[-1], SessionRevoked)


@pytest.mark.parametrize(("token", "refused"), [("", InvalidArgument), ("never-issued", Unauthenticated)])
async def test_a_missing_or_unknown_refresh_token_is_refused(db, auth, token: str, refused: type) -> None:
    with pytest.raises(refused):
        await refresh(db, auth, token)


async def test_a_closed_account_cannotrefresh(db, auth) -> None:
    registered = await register(db, auth)
    db.users[registered.user.id].profile = Profile(email="ada@example.org", status=UserStatus.DEACTIVATED)
    with pytest.raises(PermissionDenied):
        await refresh(db, auth, registered.refresh_token)


async def test_a_refresh_says_the_account_is_blocked_now(db, auth) -> None:
    registered = await register(db, auth)
    db.users[registered.user.id].profile = Profile(email="ada@example.org", status=UserStatus.BLOCKED)
    refreshed = await refresh(db, auth, registered.refresh_token)
    claims = verify_access_token(refreshed.access.token, await public_keys(auth), now=auth["clock"].now())
    assert (claims["st"], claims["role"]) == ("blocked", "reader")


async def test_an_expired_refresh_token_is_refused(db, auth, clock) -> None:
    registered = await register(db, auth)
    clock.advance(LIFETIMES.refresh + timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as error:
        await refresh(db, auth, registered.refresh_token)
    assert error.value.reason == "REFRESH_TOKEN_EXPIRED"


async def test_signing_out_ends_the_session_and_is_idempotent(db, auth, clock) -> None:
    registered = await register(db, auth)
    for token in (registered.refresh_token, registered.refresh_token, "never-issued"):
        await signing_in.sign_out(signing_in.SignOut(token), uow=db.unit_of_work(), clock=clock)
    (session,) = db.sessions.values()
    assert session.revoke_reason == "logout" and [type(e) for e in db.published].count(SessionRevoked) == 1
    with pytest.raises(Unauthenticated):
        await refresh(db, auth, registered.refresh_token)


async def test_signing_out_needs_a_token(db, clock) -> None:
    with pytest.raises(InvalidArgument):
        await signing_in.sign_out(signing_in.SignOut(""), uow=db.unit_of_work(), clock=clock)
