"""Where the signing keys live: the users database, private halves encrypted with a passphrase from settings.

The first start creates a key. Rotating adds a key that is published at once and signs from
`activates_at` on; old keys leave the JWKS once their last token has expired.

    python -m services.users.keys rotate     # operators: add a key (e.g. monthly, or after a leak)
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.support.runtime.clock import Clock, SystemClock
from services.support.runtime.db import create_engine
from services.users.repository import signing_keys
from services.users.settings import UsersSettings
from services.users.tokens import Keyring, SigningKey

RELOAD_SECONDS = 30.0


class KeyStore:
    """Loads the key ring from the database and keeps it for RELOAD_SECONDS (a rotation made by another
    process is seen within that time, well inside the activation delay)."""

    def __init__(self, engine: AsyncEngine, *, passphrase: bytes, clock: Clock) -> None:
        self._engine = engine
        self._passphrase = passphrase
        self._clock = clock
        self._ring: Keyring | None = None
        self._loaded_at = 0.0

    async def keyring(self) -> Keyring:
        if self._ring is None or time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            self._ring = await self._load()
            self._loaded_at = time.monotonic()
        return self._ring

    async def ensure_key(self) -> None:
        """Create the first key (active at once) when there is none."""
        async with self._engine.connect() as connection:
            count = await connection.scalar(sa.select(sa.func.count()).select_from(signing_keys))
        if not count:
            await self._store(SigningKey.generate(now=self._clock.now()), only_if_none=True)
        self._ring = None

    async def rotate(self, *, activation_delay: timedelta) -> SigningKey:
        """Add a key that signs from now + activation_delay; returns it."""
        now = self._clock.now()
        key = SigningKey.generate(now=now, activates_at=now + activation_delay)
        await self._store(key)
        self._ring = None
        return key

    async def _store(self, key: SigningKey, *, only_if_none: bool = False) -> None:
        row = {
            "kid": key.kid,
            "private_key_pem": key.encrypted_pem(self._passphrase),
            "created_at": key.created_at,
            "activates_at": key.activates_at,
        }
        async with self._engine.begin() as connection:
            if only_if_none:
                # Two processes starting together: one key wins, the other insert is skipped.
                await connection.execute(sa.text("LOCK TABLE signing_keys IN EXCLUSIVE MODE"))
                if await connection.scalar(sa.select(sa.func.count()).select_from(signing_keys)):
                    return
            await connection.execute(insert(signing_keys).values(**row))

    async def _load(self) -> Keyring:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(sa.select(signing_keys))).all()
        return Keyring(
            tuple(
                SigningKey.from_encrypted_pem(
                    row.private_key_pem, self._passphrase, created_at=row.created_at, activates_at=row.activates_at
                )
                for row in rows
            )
        )


async def _rotate(settings: UsersSettings) -> None:
    engine = create_engine(settings)
    try:
        store = KeyStore(
            engine, passphrase=settings.signing_key_passphrase.get_secret_value().encode(), clock=SystemClock()
        )
        key = await store.rotate(activation_delay=timedelta(seconds=settings.key_activation_delay_seconds))
        print(f"key {key.kid} published now, signs from {key.activates_at.isoformat()}")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Key management for operators (reads the same ATHENAEUM_* settings as the service)."""
    parser = argparse.ArgumentParser(prog="python -m services.users.keys", description=main.__doc__)
    parser.add_argument("command", choices=["rotate"])
    parser.parse_args(argv)
    asyncio.run(_rotate(UsersSettings()))


if __name__ == "__main__":
    main()
