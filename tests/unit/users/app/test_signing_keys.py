"""The signing-key use cases: the first key once, rotation, the published set."""

from __future__ import annotations

from datetime import timedelta

from services.users.app import signing_keys
from services.users.domain.signing_keys import SigningKey

from ..conftest import LIFETIMES, NOW
from ..fakes import FakeSigningKeys


async def test_the_first_key_is_made_once_and_signs_at_once(clock) -> None:
    keys = FakeSigningKeys()
    for _ in range(2):
        await signing_keys.ensure_signing_key(keys=keys, clock=clock)
    (first,) = keys.keys
    assert (await keys.keyring()).signing_key(NOW) == first


async def test_a_rotated_key_is_published_at_once_and_signs_after_the_delay(clock) -> None:
    first = SigningKey.generate(now=NOW - timedelta(days=30))
    keys = FakeSigningKeys(first)
    command = signing_keys.RotateSigningKey(activation_delay=timedelta(minutes=2))
    rotated = await signing_keys.rotate_signing_key(command, keys=keys, clock=clock)
    published = await signing_keys.list_public_keys(keys=keys, clock=clock, lifetimes=LIFETIMES)
    ring = await keys.keyring()
    assert {jwk["kid"] for jwk in published} == {first.kid, rotated.kid}
    assert ring.signing_key(NOW) == first and ring.signing_key(NOW + timedelta(minutes=3)) == rotated
