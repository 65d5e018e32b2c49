"""Where the signing keys live: the users database, private halves encrypted with a passphrase from settings.

Outside the unit of work: every token needs the ring, so it is kept in memory and reloaded every
RELOAD_SECONDS (a rotation made by another process is seen within that time, well inside the activation
delay). Rotation: `athenaeum users rotate-keys` (services/users/cli.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.support.runtime.errors import FailedPrecondition
from services.users.data.tables import signing_keys
from services.users.domain.signing_keys import Keyring, SigningKey

log = logging.getLogger("athenaeum.users.signing_keys")

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
        """The keys this passphrase opens. One it does not open (added with another passphrase) is left out
        and logged, so the keys before it go on signing: it failed every sign-in and the JWKS mesh-wide. None
        opened, of some: WrongPassphrase."""
        rows = await self._rows()
        opened: list[SigningKey] = []
        for row in rows:
            if (key := self._open(row)) is not None:
                opened.append(key)
            else:
                log.error("signing key %s does not open with this passphrase: left out of the key ring", row.kid)
        if rows and not opened:
            raise WrongPassphrase()
        return Keyring(tuple(opened))

    async def _rows(self) -> Sequence[Any]:
        async with self._engine.connect() as connection:
            return (await connection.execute(sa.select(signing_keys))).all()

    def _open(self, row: Any) -> SigningKey | None:
        try:
            return SigningKey.from_encrypted_pem(
                row.private_key_pem, self._passphrase, created_at=row.created_at, activates_at=row.activates_at
            )
        except (ValueError, TypeError):
            return None

    async def check_passphrase(self) -> None:
        """WrongPassphrase unless this passphrase opens every stored key: a key added with another one could
        sign nothing here."""
        if any(self._open(row) is None for row in await self._rows()):
            raise WrongPassphrase()


class WrongPassphrase(FailedPrecondition):
    def __init__(self) -> None:
        super().__init__(
            "the signing-key passphrase (ATHENAEUM_SIGNING_KEY_PASSPHRASE) does not open the stored signing keys: "
            "use the passphrase the users service runs with",
            reason="WRONG_SIGNING_KEY_PASSPHRASE",
        )


_COUNT = sa.select(sa.func.count()).select_from(signing_keys)
