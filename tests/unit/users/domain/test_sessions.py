"""Refresh-token rotation with family revocation on reuse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.support.runtime.errors import Unauthenticated
from services.users.domain.sessions import RefreshTokenReused, Session, SessionRevoked, UserLoggedIn, token_digest

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


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


def test_a_session_announces_the_sign_in_it_starts() -> None:
    session = _session()
    (signed_in,) = session.events
    assert isinstance(signed_in, UserLoggedIn) and signed_in.name == session.user_name == f"users/{session.user_id}"


def test_revoking_twice_announces_once() -> None:
    session = _session()
    session.revoke("logout", now=NOW)
    session.revoke("logout", now=NOW)
    assert [type(e) for e in session.events] == [UserLoggedIn, SessionRevoked]
