"""Signing keys: public JWKs only, published before they sign, stored encrypted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.users.domain.signing_keys import Keyring, SigningKey

NOW = datetime.now(UTC).replace(microsecond=0)
TTL = timedelta(minutes=15)


def _jwks(ring: Keyring, at: datetime = NOW) -> list[dict[str, str]]:
    return [key.jwk() for key in ring.published(at, token_ttl=TTL)]


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


def test_keys_rest_encrypted_and_come_back_with_the_same_id() -> None:
    key = SigningKey.generate(now=NOW)
    pem = key.encrypted_pem(b"passphrase")
    assert b"ENCRYPTED" in pem
    restored = SigningKey.from_encrypted_pem(pem, b"passphrase", created_at=NOW, activates_at=NOW)
    assert restored.kid == key.kid
    with pytest.raises(ValueError):
        SigningKey.from_encrypted_pem(pem, b"wrong", created_at=NOW, activates_at=NOW)
