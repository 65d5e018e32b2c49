"""Access tokens: the claims of an ES256 JWT the edge verifies, signed with the key ring's active key. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from services.support.runtime.identity import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, Role
from services.users.domain.accounts import User
from services.users.domain.signing_keys import ALGORITHM, CLOCK_SKEW, Keyring


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


def issue_access_token(
    user: User, *, session_id: uuid.UUID, keyring: Keyring, now: datetime, ttl: timedelta
) -> AccessToken:
    """A JWT the edge verifies: who (sub), what they may do (role, patron category, account status), which
    session (sid). A restricted account (BLOCKED, EXPIRED) gets a reader's role whatever its own, and its
    status in `st`: every service then lets it only read, and only its own records (runtime/identity.py),
    so a blocked librarian cannot read the patrons' records through a token meant to show them their own."""
    key = keyring.signing_key(now)
    expires_at = now + ttl
    restricted = user.restricted(now)
    claims: dict[str, Any] = {
        "iss": ACCESS_TOKEN_ISSUER,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "sub": user.name,
        "role": str(Role.READER if restricted else user.profile.role),
        "st": str(user.effective_status(now)),
        "cat": user.profile.patron_category,
        "sid": str(session_id),
        "jti": str(uuid.uuid4()),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "at+jwt"})
    return AccessToken(token, expires_at)


def verify_access_token(token: str, jwks: Sequence[dict[str, str]], *, now: datetime) -> dict[str, Any]:
    """What the edge does, in Python (tests, benchmarks): signature, kid, issuer, audience and expiry at `now`
    (the caller's clock, not the machine's: a token is judged at the time the caller says it is)."""
    kid = jwt.get_unverified_header(token).get("kid")
    matches = [key for key in jwks if key["kid"] == kid]
    if not matches:
        raise jwt.InvalidKeyError(f"no published key has kid {kid!r}")
    public_key = jwt.algorithms.ECAlgorithm.from_jwk(matches[0])
    claims: dict[str, Any] = jwt.decode(
        token,
        public_key,  # type: ignore[arg-type]
        algorithms=[ALGORITHM],
        audience=ACCESS_TOKEN_AUDIENCE,
        issuer=ACCESS_TOKEN_ISSUER,
        options={"require": ["exp", "iat"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    if claims["exp"] <= (now - CLOCK_SKEW).timestamp():
        raise jwt.ExpiredSignatureError("Signature has expired")
    if claims["iat"] > (now + CLOCK_SKEW).timestamp():
        raise jwt.ImmatureSignatureError("The token is not yet valid (iat)")
    return claims
