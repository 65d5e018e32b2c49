"""Sign-up, sign-in, refresh and sign-out through the in-memory unit of work."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.support.runtime.errors import InvalidArgument, PermissionDenied, Throttled, Unauthenticated
from services.support.runtime.identity import Role
from services.users.app import signing_in, signing_keys
from services.users.domain.access_tokens import verify_access_token
from services.users.domain.accounts import UserRegistered
from services.users.domain.profile import KindChoice, Profile, UserStatus
from services.users.domain.sessions import RefreshTokenReused, SessionRevoked, UserLoggedIn
from services.users.domain.throttling import NOT_AN_EMAIL, UserLoginFailed, account_key

from ..conftest import LIFETIMES, THROTTLING
from ..fakes import FakePasswords, FakeUsersDatabase

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def auth(db, clock, passwords, keys):
    """The ports of every auth use case, by keyword (each use case takes the ones it needs)."""
    return {"clock": clock, "passwords": passwords, "keys": keys, "lifetimes": LIFETIMES}


async def _register(db: FakeUsersDatabase, auth: dict, email: str = "ada@example.org", **kw: object):
    command = signing_in.Register(Profile(email=email, role=Role.ADMIN), PASSWORD, **kw)  # type: ignore[arg-type]
    return await signing_in.register(command, uow=db.unit_of_work(), **auth)


async def _sign_in(
    db: FakeUsersDatabase,
    auth: dict,
    email: str = "ada@example.org",
    password: str = PASSWORD,
    client: str = "203.0.113.7",
):
    command = signing_in.SignIn(email, password, client=client)
    return await signing_in.sign_in(command, uow=db.unit_of_work(), throttling=THROTTLING, **auth)


async def _refresh(db: FakeUsersDatabase, auth: dict, token: str):
    command = signing_in.RefreshSession(token)
    return await signing_in.refresh_session(
        command, uow=db.unit_of_work(), clock=auth["clock"], keys=auth["keys"], lifetimes=LIFETIMES
    )


async def _jwks(auth: dict) -> list[dict[str, str]]:
    return await signing_keys.list_public_keys(keys=auth["keys"], clock=auth["clock"], lifetimes=LIFETIMES)


async def test_registration_makes_a_reader_whatever_is_asked_and_signs_them_in(db, auth) -> None:
    signed_in = await _register(db, auth)
    claims = verify_access_token(signed_in.access.token, await _jwks(auth), now=auth["clock"].now())
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
    first = await _register(db, auth, request_id=request_id)
    again = await _register(db, auth, request_id=request_id)
    assert again.user.id == first.user.id and len(db.users) == 1


async def test_a_registration_request_id_does_not_serve_another_password(db, auth) -> None:
    request_id = uuid.uuid4()
    await _register(db, auth, request_id=request_id)
    other = signing_in.Register(Profile(email="ada@example.org"), "Another-Horse-43", request_id=request_id)
    with pytest.raises(InvalidArgument):
        await signing_in.register(other, uow=db.unit_of_work(), **auth)


async def test_signing_in_returns_verifiable_tokens_and_announces_it(db, auth) -> None:
    registered = await _register(db, auth)
    signed_in = await _sign_in(db, auth, email=" ADA@example.org ")
    assert (
        verify_access_token(signed_in.access.token, await _jwks(auth), now=auth["clock"].now())["sub"]
        == registered.user.name
    )
    assert isinstance(db.published[-1], UserLoggedIn)
    assert db.throttles[account_key("ada@example.org", "203.0.113.7")].failures == 0


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"])
async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(db, auth, email: str) -> None:
    await _register(db, auth)
    with pytest.raises(Unauthenticated) as error:
        await _sign_in(db, auth, email=email, password="Wrong-Password-1")
    assert error.value.reason == "BAD_CREDENTIALS" and error.value.message == signing_in.BAD_CREDENTIALS
    failed = db.published[-1]
    assert isinstance(failed, UserLoginFailed) and failed.email == email


async def test_a_failed_sign_in_names_the_account_whose_email_was_tried_and_none_for_an_unknown_one(db, auth) -> None:
    registered = await _register(db, auth)
    for email, account in (("ada@example.org", registered.user.name), ("nobody@example.org", "")):
        with pytest.raises(Unauthenticated):
            await _sign_in(db, auth, email=email, password="Wrong-Password-1")
        failed = db.published[-1]
        assert isinstance(failed, UserLoginFailed) and (failed.name, failed.reason) == (
            account,
            "wrong_password" if account else "unknown_email",
        )


async def test_failures_make_that_client_wait_for_that_account_but_the_owner_signs_in_elsewhere(
    db, auth, clock
) -> None:
    await _register(db, auth)
    for _ in range(THROTTLING.account_from_client.free_failures + 1):
        with pytest.raises(Unauthenticated):
            await _sign_in(db, auth, password="Wrong-Password-1", client="198.51.100.1")
    with pytest.raises(Throttled) as waiting:
        await _sign_in(db, auth, client="198.51.100.1")  # even the right password waits its turn here
    assert waiting.value.metadata["retry_after_seconds"] == "1"
    assert await _sign_in(db, auth, client="203.0.113.7")  # no lock on the account: the owner is elsewhere
    clock.advance(timedelta(seconds=1))
    assert await _sign_in(db, auth, client="198.51.100.1")


async def test_each_further_failure_doubles_the_wait(db, auth, clock) -> None:
    await _register(db, auth)
    waits: list[int] = []
    while len(waits) < 4:
        try:
            await _sign_in(db, auth, password="Wrong-Password-1")
        except Unauthenticated:
            continue
        except Throttled as throttled:
            waits.append(int(throttled.metadata["retry_after_seconds"]))
            clock.advance(timedelta(seconds=waits[-1]))
    assert waits == [1, 2, 4, 8]


async def test_a_client_failing_on_many_accounts_is_slowed_down(db, auth) -> None:
    emails = [f"sprayed-{n}@example.org" for n in range(THROTTLING.client.free_failures + 1)]
    for email in emails:
        with pytest.raises(Unauthenticated):
            await _sign_in(db, auth, email=email, password="Summer-2026", client="192.0.2.9")
    with pytest.raises(Throttled):
        await _sign_in(db, auth, email="one-more@example.org", password="Summer-2026", client="192.0.2.9")
    with pytest.raises(Unauthenticated):  # another client is not held back
        await _sign_in(db, auth, email="one-more@example.org", password="Summer-2026", client="192.0.2.10")


@pytest.mark.parametrize(("email", "password", "field"), [("", PASSWORD, "email"), ("a@b.org", "", "password")])
async def test_sign_in_names_the_missing_credential(db, auth, email: str, password: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        await _sign_in(db, auth, email=email, password=password)
    assert error.value.violations[0].field == field and db.commits == []


async def test_a_hash_with_older_parameters_is_upgraded_in_the_sign_in_transaction(db, auth) -> None:
    registered = await _register(db, {**auth, "passwords": FakePasswords(scheme="v1")})
    assert db.users[registered.user.id].password_hash == f"v1${PASSWORD}"
    await _sign_in(db, auth)
    assert db.users[registered.user.id].password_hash == f"v2${PASSWORD}"
    sign_in_commit = db.commits[-1]
    assert "users" in sign_in_commit.tables and "sessions" in sign_in_commit.tables
    assert [type(e) for e in sign_in_commit.events] == [UserLoggedIn]


async def test_a_current_hash_is_left_alone(db, auth, passwords) -> None:
    await _register(db, auth)
    await _sign_in(db, auth)
    assert passwords.hashed == [PASSWORD] and "users" not in db.commits[-1].tables


async def test_a_failed_sign_in_upgrades_nothing(db, auth) -> None:
    registered = await _register(db, {**auth, "passwords": FakePasswords(scheme="v1")})
    with pytest.raises(Unauthenticated):
        await _sign_in(db, auth, password="Wrong-Password-1")
    assert db.users[registered.user.id].password_hash == f"v1${PASSWORD}"


async def test_a_refresh_token_buys_one_new_pair(db, auth) -> None:
    first = await _register(db, auth)
    second = await _refresh(db, auth, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert verify_access_token(second.access.token, await _jwks(auth), now=auth["clock"].now())["sid"] == str(
        db.refresh_tokens[next(iter(db.refresh_tokens))].session_id
    )


async def test_a_replayed_refresh_token_revokes_the_session_for_good(db, auth) -> None:
    first = await _register(db, auth)
    second = await _refresh(db, auth, first.refresh_token)
    with pytest.raises(RefreshTokenReused):
        await _refresh(db, auth, first.refresh_token)
    with pytest.raises(Unauthenticated) as error:  # the revocation was committed although the replay failed
        await _refresh(db, auth, second.refresh_token)
    assert error.value.reason == "REFRESH_TOKEN_REVOKED" and isinstance(db.published[-1], SessionRevoked)


@pytest.mark.parametrize(("token", "refused"), [("", InvalidArgument), ("never-issued", Unauthenticated)])
async def test_a_missing_or_unknown_refresh_token_is_refused(db, auth, token: str, refused: type) -> None:
    with pytest.raises(refused):
        await _refresh(db, auth, token)


async def test_a_closed_account_cannot_refresh(db, auth) -> None:
    registered = await _register(db, auth)
    db.users[registered.user.id].profile = Profile(email="ada@example.org", status=UserStatus.DEACTIVATED)
    with pytest.raises(PermissionDenied):
        await _refresh(db, auth, registered.refresh_token)


async def test_a_refresh_says_the_account_is_blocked_now(db, auth) -> None:
    registered = await _register(db, auth)
    db.users[registered.user.id].profile = Profile(email="ada@example.org", status=UserStatus.BLOCKED)
    refreshed = await _refresh(db, auth, registered.refresh_token)
    claims = verify_access_token(refreshed.access.token, await _jwks(auth), now=auth["clock"].now())
    assert (claims["st"], claims["role"]) == ("blocked", "reader")


async def test_an_expired_refresh_token_is_refused(db, auth, clock) -> None:
    registered = await _register(db, auth)
    clock.advance(LIFETIMES.refresh + timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as error:
        await _refresh(db, auth, registered.refresh_token)
    assert error.value.reason == "REFRESH_TOKEN_EXPIRED"


async def test_signing_out_ends_the_session_and_is_idempotent(db, auth, clock) -> None:
    registered = await _register(db, auth)
    for token in (registered.refresh_token, registered.refresh_token, "never-issued"):
        await signing_in.sign_out(signing_in.SignOut(token), uow=db.unit_of_work(), clock=clock)
    (session,) = db.sessions.values()
    assert session.revoke_reason == "logout" and [type(e) for e in db.published].count(SessionRevoked) == 1
    with pytest.raises(Unauthenticated):
        await _refresh(db, auth, registered.refresh_token)


async def test_signing_out_needs_a_token(db, clock) -> None:
    with pytest.raises(InvalidArgument):
        await signing_in.sign_out(signing_in.SignOut(""), uow=db.unit_of_work(), clock=clock)


@pytest.mark.parametrize("typed", ["Hunter2-MySecret!", "hunter2@", "mallory:bob@example.org"])
async def test_what_was_typed_as_an_email_reaches_the_audit_log_only_when_it_is_one(db, auth, typed: str) -> None:
    with pytest.raises(Unauthenticated):
        await _sign_in(db, auth, email=typed, password=typed)  # a password typed into both boxes
    failed = db.published[-1]
    assert isinstance(failed, UserLoginFailed) and (failed.email, failed.reason) == (NOT_AN_EMAIL, "unknown_email")
    assert typed.lower() not in repr(db.published)


async def test_a_failed_sign_in_is_recorded_as_an_anonymous_caller_s_from_the_client_address(db, auth) -> None:
    """The account is what was tried, not who tried: the trail showed a stranger's guesses as the reader's."""
    await _register(db, auth)
    with pytest.raises(Unauthenticated):
        await _sign_in(db, auth, password="Wrong-Password-1", client="198.51.100.23")
    failed = db.published[-1]
    assert isinstance(failed, UserLoginFailed)
    assert (failed.attempted_by, failed.client_address) == ("anonymous", "198.51.100.23")


async def test_attempts_the_throttle_refuses_are_recorded_once_per_wait_and_counted(db, auth, clock) -> None:
    """A brute-force run showed as 4 failures; the refused attempts and the throttling left no trace."""
    registered = await _register(db, auth)
    for _ in range(THROTTLING.account_from_client.free_failures + 1):
        with pytest.raises(Unauthenticated):
            await _sign_in(db, auth, password="Wrong-Password-1")
    before = len(db.published)
    for _ in range(5):
        with pytest.raises(Throttled):
            await _sign_in(db, auth, password="Wrong-Password-1")
    refusals = db.published[before:]
    assert len(refusals) == 1  # a flood of refused attempts is one record
    refused = refusals[0]
    assert isinstance(refused, UserLoginFailed)
    assert (refused.reason, refused.name, refused.attempted_by) == ("rate_limited", registered.user.name, "anonymous")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        await _sign_in(db, auth, password="Wrong-Password-1")
    counted = db.published[-1]
    assert isinstance(counted, UserLoginFailed) and counted.refused_attempts == 5
    with pytest.raises(Throttled):  # the next wait's first refusal is recorded again
        await _sign_in(db, auth, password="Wrong-Password-1")
    assert isinstance(db.published[-1], UserLoginFailed) and db.published[-1].reason == "rate_limited"


async def test_a_client_refused_for_spraying_many_accounts_is_recorded(db, auth) -> None:
    for n in range(THROTTLING.client.free_failures + 1):
        with pytest.raises(Unauthenticated):
            await _sign_in(db, auth, email=f"sprayed-{n}@example.org", password="Summer-2026", client="192.0.2.9")
    with pytest.raises(Throttled):
        await _sign_in(db, auth, email="one-more@example.org", password="Summer-2026", client="192.0.2.9")
    refused = db.published[-1]
    assert isinstance(refused, UserLoginFailed)
    assert (refused.reason, refused.client_address) == ("rate_limited", "192.0.2.9")
