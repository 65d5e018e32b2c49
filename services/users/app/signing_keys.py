"""The token signing keys: the first one, rotation, and the published set (JWKS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.support.runtime.clock import Clock
from services.users.app.ports import SigningKeys
from services.users.domain.sessions import TokenLifetimes
from services.users.domain.signing_keys import SigningKey


@dataclass(frozen=True, slots=True)
class RotateSigningKey:
    activation_delay: timedelta
    """Published at once, signing only after this (longer than the edge caches the JWKS)."""


async def ensure_signing_key(*, keys: SigningKeys, clock: Clock) -> None:
    """Create the first key, active at once, when there is none (the first token needs one)."""
    await keys.add_first(SigningKey.generate(now=clock.now()))


async def rotate_signing_key(cmd: RotateSigningKey, *, keys: SigningKeys, clock: Clock) -> SigningKey:
    """Add a key that signs from now + the activation delay; returns it. Refused (FailedPrecondition) unless
    the passphrase opens every stored key: run with another one, the new key could sign nothing."""
    await keys.check_passphrase()
    now = clock.now()
    key = SigningKey.generate(now=now, activates_at=now + cmd.activation_delay)
    await keys.add(key)
    return key


async def list_public_keys(*, keys: SigningKeys, clock: Clock, lifetimes: TokenLifetimes) -> list[dict[str, str]]:
    """The JWKS: every key that may still have to verify a token."""
    keyring = await keys.keyring()
    return [key.jwk() for key in keyring.published(clock.now(), token_ttl=lifetimes.access)]
