"""Failed sign-ins through the in-memory unit of work: one answer for a wrong password and an unknown email,
the waits the throttle imposes, and what the audit log is told of each failure and refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.support.runtime.errors import Throttled, Unauthenticated
from services.users.app import signing_in
from services.users.domain.throttling import NOT_AN_EMAIL, UserLoginFailed

from ..conftest import THROTTLING
from .conftest import register, sign_in


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"])
async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(db, auth, email: str) -> None:
    await register(db, auth)
    with pytest.raises(Unauthenticated) as error:
        await sign_in(db, auth, email=email, password="Wrong-Password-1")
    assert error.value.reason == "BAD_CREDENTIALS" and error.value.message == signing_in.BAD_CREDENTIALS
    failed = db.published[-1]
    assert isinstance(failed, UserLoginFailed) and failed.email == email


async def test_a_failed_sign_in_names_the_account_whose_email_was_tried_and_none_for_an_unknown_one(db, auth) -> None:
    registered = await register(db, auth)
    for email, account in (("ada@example.org", registered.user.name), ("nobody@example.org", "")):
        with pytest.raises(Unauthenticated):
            await sign_in(db, auth, email=email, password="Wrong-Password-1")
        failed = db.published[-1]
        assert isinstance(failed, UserLoginFailed) and (failed.name, failed.reason) == (
            account,
            "wrong_password" if account else "unknown_email",
        )


async def test_failures_make_that_client_wait_for_that_account_but_the_owner_signs_in_elsewhere(
    db, auth, clock
) -> None:
    await register(db, auth)
    for _ in range(THROTTLING.account_from_client.free_failures + 1):
        with pytest.raises(Unauthenticated):
            await sign_in(db, auth, password="Wrong-Password-1", client="198.51.100.1")
    with pytest.raises(Throttled) as waiting:
        await sign_in(db, auth, client="198.51.100.1")  # even the right password waits its turn here
    assert waiting.value.metadata["retry_after_seconds"] == "1"
    assert await sign_in(db, auth, client="203.0.113.7")  # no lock on the account: the owner is elsewhere
    clock.advance(timedelta(seconds=1))
    assert await sign_in(db, auth, client="198.51.100.1")


async def test_each_further_failure_doubles_the_wait(db, auth, clock) -> None:
    await register(db, auth)
    waits: list[int] = []
    while len(waits) < 4:
        try:
            await sign_in(db, auth, password="Wrong-Password-1")
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
            await sign_in(db, auth, email=email, password="Summer-2026", client="192.0.2.9")
    with pytest.raises(Throttled):
        await sign_in(db, auth, email="one-more@example.org", password="Summer-2026", client="192.0.2.9")
    with pytest.raises(Unauthenticated):  # another client is not held back
        await sign_in(db, auth, email="one-more@example.org", password="Summer-2026", client="192.0.2.10")


@pytest.mark.parametrize("typed", ["Hunter2-MySecret!", "hunter2@", "mallory:bob@example.org"])
async def test_what_was_typed_as_an_email_reaches_the_audit_log_only_when_it_is_one(db, auth, typed: str) -> None:
    with pytest.raises(Unauthenticated):
        await sign_in(db, auth, email=typed, password=typed)  # a password typed into both boxes
    failed = db.published[-1]
    assert isinstance(failed, UserLoginFailed) and (failed.email, failed.reason) == (NOT_AN_EMAIL, "unknown_email")
    assert typed.lower() not in repr(db.published)


async def test_a_failed_sign_in_is_recorded_as_an_anonymous_caller_s_from_the_client_address(db, auth) -> None:
    """The account is what was tried, not who tried: the trail showed a stranger's guesses as the reader's."""
    await register(db, auth)
    with pytest.raises(Unauthenticated):
        await sign_in(db, auth, password="Wrong-Password-1", client="198.51.100.23")
    failed = db.published[-1]
    assert isinstance(failed, UserLoginFailed)
    assert (failed.attempted_by, failed.client_address) == ("anonymous", "198.51.100.23")


async def test_attempts_the_throttle_refuses_are_recorded_once_per_wait_and_counted(db, auth, clock) -> None:
    """A brute-force run showed as 4 failures; the refused attempts and the throttling left no trace."""
    registered = await register(db, auth)
    for _ in range(THROTTLING.account_from_client.free_failures + 1):
        with pytest.raises(Unauthenticated):
            await sign_in(db, auth, password="Wrong-Password-1")
    before = len(db.published)
    for _ in range(5):
        with pytest.raises(Throttled):
            await sign_in(db, auth, password="Wrong-Password-1")
    refusals = db.published[before:]
    assert len(refusals) == 1  # a flood of refused attempts is one record
    refused = refusals[0]
    assert isinstance(refused, UserLoginFailed)
    assert (refused.reason, refused.name, refused.attempted_by) == ("rate_limited", registered.user.name, "anonymous")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        await sign_in(db, auth, password="Wrong-Password-1")
    counted = db.published[-1]
    assert isinstance(counted, UserLoginFailed) and counted.refused_attempts == 5
    with pytest.raises(Throttled):  # the next wait's first refusal is recorded again
        await sign_in(db, auth, password="Wrong-Password-1")
    assert isinstance(db.published[-1], UserLoginFailed) and db.published[-1].reason == "rate_limited"


async def test_a_client_refused_for_spraying_many_accounts_is_recorded(db, auth) -> None:
    for n in range(THROTTLING.client.free_failures + 1):
        with pytest.raises(Unauthenticated):
            await sign_in(db, auth, email=f"sprayed-{n}@example.org", password="Summer-2026", client="192.0.2.9")
    with pytest.raises(Throttled):
        await sign_in(db, auth, email="one-more@example.org", password="Summer-2026", client="192.0.2.9")
    refused = db.published[-1]
    assert isinstance(refused, UserLoginFailed)
    assert (refused.reason, refused.client_address) == ("rate_limited", "192.0.2.9")
