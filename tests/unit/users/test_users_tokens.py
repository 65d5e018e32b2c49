"""ES256 access tokens, the JWKS, key rotation, and the argon2id password hasher."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.support.runtime.identity import decode_claims
from services.users.domain import Profile, User, UserRole
from services.users.passwords import Passwords
from services.users.tokens import Keyring, NoSigningKey, SigningKey, issue_access_token, verify_access_token

NOW = datetime.now(UTC).replace(microsecond=0)
TTL = timedelta(minutes=15)


def _user() -> User:
    profile = Profile(email="reader@example.org", role=UserRole.LIBRARIAN, patron_category="STAFF")
    return User.register(profile, password_hash="", now=NOW)


def _jwks(ring: Keyring, at: datetime = NOW) -> list[dict[str, str]]:
    return [key.jwk() for key in ring.published(at, token_ttl=TTL)]


def test_a_token_carries_who_what_and_which_session_and_verifies_with_the_jwks() -> None:
    ring = Keyring((SigningKey.generate(now=NOW),))
    session_id = uuid.uuid4()
    token = issue_access_token(_user(), session_id=session_id, keyring=ring, now=NOW, ttl=TTL)
    claims = verify_access_token(token.token, _jwks(ring))
    assert claims["sub"].startswith("users/") and claims["role"] == "librarian" and claims["cat"] == "STAFF"
    assert claims["sid"] == str(session_id) and claims["exp"] - claims["iat"] == TTL.total_seconds()
    assert jwt.get_unverified_header(token.token)["kid"] == ring.keys[0].kid


def test_the_payload_the_edge_forwards_decodes_to_an_identity() -> None:
    ring = Keyring((SigningKey.generate(now=NOW),))
    token = issue_access_token(_user(), session_id=uuid.uuid4(), keyring=ring, now=NOW, ttl=TTL).token
    identity = decode_claims(token.split(".")[1])
    assert identity.role == "librarian" and identity.is_staff and identity.expires_at == NOW + TTL


def test_jwks_entries_are_public_ec_keys_only() -> None:
    (jwk,) = _jwks(Keyring((SigningKey.generate(now=NOW),)))
    assert {jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]} == {"EC", "P-256", "ES256", "sig"}
    assert "d" not in jwk


def test_a_rotated_in_key_is_published_before_it_signs() -> None:
    old = SigningKey.generate(now=NOW - timedelta(days=30), activates_at=NOW - timedelta(days=30))
    new = SigningKey.generate(now=NOW, activates_at=NOW + timedelta(minutes=2))
    ring = Keyring((old, new))
    assert ring.signing_key(NOW) == old
    assert {k.kid for k in ring.published(NOW, token_ttl=TTL)} == {old.kid, new.kid}
    assert ring.signing_key(NOW + timedelta(minutes=3)) == new


def test_an_old_key_stays_published_until_its_last_token_expires() -> None:
    old = SigningKey.generate(now=NOW - timedelta(days=30), activates_at=NOW - timedelta(days=30))
    new = SigningKey.generate(now=NOW, activates_at=NOW)
    ring = Keyring((old, new))
    last_old_token = issue_access_token(_user(), session_id=uuid.uuid4(), keyring=Keyring((old,)), now=NOW, ttl=TTL)
    assert verify_access_token(last_old_token.token, _jwks(ring, NOW + TTL - timedelta(seconds=1)))
    assert {k.kid for k in ring.published(NOW + TTL + timedelta(minutes=1), token_ttl=TTL)} == {new.kid}


def test_no_active_key_is_an_error_not_an_unsigned_token() -> None:
    future = SigningKey.generate(now=NOW, activates_at=NOW + timedelta(hours=1))
    with pytest.raises(NoSigningKey):
        issue_access_token(_user(), session_id=uuid.uuid4(), keyring=Keyring((future,)), now=NOW, ttl=TTL)


def test_keys_rest_encrypted_and_come_back_with_the_same_id() -> None:
    key = SigningKey.generate(now=NOW)
    pem = key.encrypted_pem(b"passphrase")
    assert b"ENCRYPTED" in pem
    restored = SigningKey.from_encrypted_pem(pem, b"passphrase", created_at=NOW, activates_at=NOW)
    assert restored.kid == key.kid
    with pytest.raises(ValueError):
        SigningKey.from_encrypted_pem(pem, b"wrong", created_at=NOW, activates_at=NOW)


async def test_passwords_are_argon2id_hashes_that_verify_only_the_right_password() -> None:
    passwords = Passwords(time_cost=1, memory_cost=8, parallelism=1)
    stored = await passwords.hash("Correct-Horse-42")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify(stored, "Correct-Horse-42")
    assert not await passwords.verify(stored, "correct-horse-42")
    assert not await passwords.verify("", "Correct-Horse-42")  # no hash: the decoy runs, and fails


def test_the_production_parameters_are_the_documented_ones() -> None:
    stored = Passwords()._hasher.hash("x")
    assert "$m=19456,t=2,p=1$" in stored
