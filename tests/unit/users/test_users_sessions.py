"""Refresh-token rotation with family revocation on reuse, and sign-in throttling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.support.runtime.errors import Throttled, Unauthenticated
from services.users.sessions import (
    LoginThrottle,
    RefreshTokenReused,
    Session,
    SessionRevoked,
    ThrottlePolicy,
    UserLoginFailed,
    token_digest,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = ThrottlePolicy(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=5))


def _session() -> Session:
    return Session.start(uuid.uuid4(), now=NOW)


def test_issued_refresh_tokens_are_random_and_stored_only_as_digests() -> None:
    session = _session()
    first, record = session.issue(now=NOW, refresh_ttl=DAY, access_expires_at=NOW + timedelta(minutes=15))
    second, _ = session.issue(now=NOW, refresh_ttl=DAY, access_expires_at=NOW)
    assert first != second and len(first) >= 43
    assert record.digest == token_digest(first) and first not in record.digest
    assert session.access_expires_at == NOW + timedelta(minutes=15)


def test_a_token_is_spent_once() -> None:
    session = _session()
    _, record = session.issue(now=NOW, refresh_ttl=DAY, access_expires_at=NOW)
    session.rotate(record, now=NOW)
    assert record.used_at == NOW and session.revoked_at is None


def test_reusing_a_spent_token_revokes_the_whole_session() -> None:
    session = _session()
    _, record = session.issue(now=NOW, refresh_ttl=DAY, access_expires_at=NOW + timedelta(minutes=15))
    session.rotate(record, now=NOW)
    with pytest.raises(RefreshTokenReused):
        session.rotate(record, now=NOW + timedelta(minutes=1))
    assert session.revoke_reason == "refresh_token_reuse"
    (revoked,) = [e for e in session.events if isinstance(e, SessionRevoked)]
    assert revoked.session_id == session.id and revoked.expires_at == NOW + timedelta(minutes=15)


def test_a_revoked_session_refuses_even_unspent_tokens() -> None:
    session = _session()
    _, record = session.issue(now=NOW, refresh_ttl=DAY, access_expires_at=NOW)
    session.revoke("logout", now=NOW)
    with pytest.raises(Unauthenticated):
        session.rotate(record, now=NOW)


def test_an_expired_refresh_token_is_refused() -> None:
    session = _session()
    _, record = session.issue(now=NOW, refresh_ttl=DAY, access_expires_at=NOW)
    with pytest.raises(Unauthenticated):
        session.rotate(record, now=NOW + 2 * DAY)


def test_revoking_twice_announces_once() -> None:
    session = _session()
    session.revoke("logout", now=NOW)
    session.revoke("logout", now=NOW)
    assert len(session.events) == 1


def test_sign_ins_lock_after_repeated_failures_then_reopen() -> None:
    throttle = LoginThrottle("reader@example.org")
    for _ in range(POLICY.max_failures):
        throttle.begin_attempt(now=NOW, policy=POLICY)
        throttle.record_failure("wrong_password", now=NOW)
    with pytest.raises(Throttled) as locked:
        throttle.begin_attempt(now=NOW + timedelta(minutes=1), policy=POLICY)
    assert locked.value.metadata["retry_after_seconds"] == "241"
    throttle.begin_attempt(now=NOW + POLICY.lockout, policy=POLICY)
    assert len(throttle.events) == POLICY.max_failures
    assert all(isinstance(e, UserLoginFailed) for e in throttle.events)


def test_attempts_in_flight_count_before_their_outcome_is_known() -> None:
    throttle = LoginThrottle("reader@example.org")
    for _ in range(POLICY.max_failures):  # a burst of concurrent guesses, none answered yet
        throttle.begin_attempt(now=NOW, policy=POLICY)
    with pytest.raises(Throttled):
        throttle.begin_attempt(now=NOW, policy=POLICY)


def test_failures_outside_the_window_do_not_add_up() -> None:
    throttle = LoginThrottle("reader@example.org")
    for minute in (0, 20, 40, 60):
        throttle.begin_attempt(now=NOW + timedelta(minutes=minute), policy=POLICY)
    throttle.begin_attempt(now=NOW + timedelta(minutes=61), policy=POLICY)


def test_a_success_clears_the_count() -> None:
    throttle = LoginThrottle("reader@example.org")
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.record_success()
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.begin_attempt(now=NOW, policy=POLICY)
    throttle.ensure_open(NOW)
