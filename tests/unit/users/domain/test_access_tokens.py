"""ES256 access tokens: what they claim, and that the published keys verify them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.support.runtime.identity import Role, decode_claims
from services.users.domain.access_tokens import issue_access_token, verify_access_token
from services.users.domain.accounts import User
from services.users.domain.profile import Profile
from services.users.domain.signing_keys import Keyring, NoSigningKey, SigningKey

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)


def _user() -> User:
    profile = Profile(email="reader@example.org", role=Role.LIBRARIAN, patron_category="STAFF")
    return User.register(profile, password_hash="", now=NOW)


def _jwks(ring: Keyring, at: datetime = NOW) -> list[dict[str, str]]:
    return [key.jwk() for key in ring.published(at, token_ttl=TTL)]


def test_a_token_carries_who_what_and_which_session_and_verifies_with_the_jwks() -> None:
    ring = Keyring((SigningKey.generate(now=NOW),))
    session_id = uuid.uuid4()
    token = issue_access_token(_user(), session_id=session_id, keyring=ring, now=NOW, ttl=TTL)
    claims = verify_access_token(token.token, _jwks(ring), now=NOW)
    assert claims["sub"].startswith("users/") and claims["role"] == "librarian" and claims["cat"] == "STAFF"
    assert claims["sid"] == str(session_id) and claims["exp"] - claims["iat"] == TTL.total_seconds()
    assert jwt.get_unverified_header(token.token)["kid"] == ring.keys[0].kid


def test_a_token_is_judged_at_the_callers_time_expired_after_its_ttl_and_the_clock_skew() -> None:
    ring = Keyring((SigningKey.generate(now=NOW),))
    token = issue_access_token(_user(), session_id=uuid.uuid4(), keyring=ring, now=NOW, ttl=TTL).token
    assert verify_access_token(token, _jwks(ring), now=NOW + TTL + timedelta(seconds=29))  # within the skew
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_access_token(token, _jwks(ring), now=NOW + TTL + timedelta(seconds=31))
    with pytest.raises(jwt.ImmatureSignatureError):  # issued "in the future" by a clock far ahead
        verify_access_token(token, _jwks(ring), now=NOW - timedelta(minutes=5))


def test_the_payload_the_edge_forwards_decodes_to_an_identity() -> None:
    ring = Keyring((SigningKey.generate(now=NOW),))
    token = issue_access_token(_user(), session_id=uuid.uuid4(), keyring=ring, now=NOW, ttl=TTL).token
    identity = decode_claims(token.split(".")[1])
    assert identity.role == "librarian" and identity.is_staff and identity.expires_at == NOW + TTL


def test_an_old_key_stays_published_until_its_last_token_expires() -> None:
    old = SigningKey.generate(now=NOW - timedelta(days=30), activates_at=NOW - timedelta(days=30))
    new = SigningKey.generate(now=NOW, activates_at=NOW)
    ring = Keyring((old, new))
    last_old_token = issue_access_token(_user(), session_id=uuid.uuid4(), keyring=Keyring((old,)), now=NOW, ttl=TTL)
    assert verify_access_token(
        last_old_token.token, _jwks(ring, NOW + TTL - timedelta(seconds=1)), now=NOW + TTL - timedelta(seconds=1)
    )
    assert {k.kid for k in ring.published(NOW + TTL + timedelta(minutes=1), token_ttl=TTL)} == {new.kid}


def test_no_active_key_is_an_error_not_an_unsigned_token() -> None:
    future = SigningKey.generate(now=NOW, activates_at=NOW + timedelta(hours=1))
    with pytest.raises(NoSigningKey):
        issue_access_token(_user(), session_id=uuid.uuid4(), keyring=Keyring((future,)), now=NOW, ttl=TTL)
