"""Where the signing keys live: the users database, private halves encrypted with a passphrase from settings.

Outside the unit of work: every token needs the ring, so it is kept in memory and reloaded every
RELOAD_SECONDS (a rotation made by another process is seen within that time, well inside the activation
delay). Rotation: `athenaeum users rotate-keys` (services/users/cli.py).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.users.data.tables import signing_keys
from services.users.domain.signing_keys import Keyring, SigningKey

RELOAD_SECONDS = 30.0


class SqlSigningKeys:
    def __init__(self, engine: AsyncEngine, *, passphrase: bytes) -> None:
        self._engine = engine
        self._passphrase = passphrase
        self._ring: Keyring | None = None
        self._loaded_at = 0.0

    async def keyring(self) -> Keyring:
        if self._ring is None or time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            self._ring = await self._load()
            self._loaded_at = time.monotonic()
        return self._ring

    async def add(self, key: SigningKey) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(insert(signing_keys).values(**self._row(key)))
        self._ring = None

    async def add_first(self, key: SigningKey) -> bool:
        """Store `key` when there is no key at all; False when there already is one."""
        if await self._count():
            return False
        async with self._engine.begin() as connection:
            # Two processes starting together: one key wins, the other insert is skipped.
            await connection.execute(sa.text("LOCK TABLE signing_keys IN EXCLUSIVE MODE"))
            if await connection.scalar(_COUNT):
                return False
            await connection.execute(insert(signing_keys).values(**self._row(key)))
        self._ring = None
        return True

    async def _count(self) -> int:
        async with self._engine.connect() as connection:
            return int(await connection.scalar(_COUNT) or 0)

    def _row(self, key: SigningKey) -> dict[str, object]:
        return {
            "kid": key.kid,
            "private_key_pem": key.encrypted_pem(self._passphrase),
            "created_at": key.created_at,
            "activates_at": key.activates_at,
        }

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


_COUNT = sa.select(sa.func.count()).select_from(signing_keys)
