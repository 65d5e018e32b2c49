"""Token signing keys: ES256 key pairs, and which of them signs and which are published.

Rotation: a new key is published at once but signs only from `activates_at` (later than the edge's JWKS
cache lifetime), and an old key stays published until every token it signed has expired. Pure: the keys
are computed, never fetched (the data layer stores them, encrypted).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"
CLOCK_SKEW = timedelta(seconds=30)
"""How far the clocks of the issuer and a verifier may disagree."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime
    activates_at: datetime

    @classmethod
    def generate(cls, *, now: datetime, activates_at: datetime | None = None) -> SigningKey:
        private_key = ec.generate_private_key(ec.SECP256R1())
        return cls(_key_id(private_key), private_key, now, activates_at or now)

    def encrypted_pem(self, passphrase: bytes) -> bytes:
        """The private key as PKCS#8 PEM encrypted with `passphrase` (how it rests in the database)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )

    @classmethod
    def from_encrypted_pem(
        cls, pem: bytes, passphrase: bytes, *, created_at: datetime, activates_at: datetime
    ) -> SigningKey:
        private_key = serialization.load_pem_private_key(pem, password=passphrase)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise ValueError("signing keys are EC P-256 keys")
        return cls(_key_id(private_key), private_key, created_at, activates_at)

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517 / 7518)."""
        public = jwt.algorithms.ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def _key_id(private_key: ec.EllipticCurvePrivateKey) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode()


class NoSigningKey(RuntimeError):
    """No key is active yet (the service creates one at start-up)."""


@dataclass(frozen=True, slots=True)
class Keyring:
    keys: tuple[SigningKey, ...]

    def signing_key(self, now: datetime) -> SigningKey:
        """The newest key whose activation time has come."""
        active = [key for key in self.keys if key.activates_at <= now]
        if not active:
            raise NoSigningKey("no signing key is active")
        return max(active, key=lambda key: key.activates_at)

    def published(self, now: datetime, *, token_ttl: timedelta) -> list[SigningKey]:
        """Keys that may still have to verify a token: all but those superseded longer than a token lives."""
        ordered = sorted(self.keys, key=lambda key: key.activates_at)
        published = []
        for index, key in enumerate(ordered):
            successors = [later for later in ordered[index + 1 :] if later.activates_at <= now]
            retired = successors and successors[0].activates_at + token_ttl + CLOCK_SKEW < now
            if not retired:
                published.append(key)
        return published
