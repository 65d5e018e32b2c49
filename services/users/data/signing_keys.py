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

from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition
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
        self._unopened_at: float | None = None

    async def keyring(self) -> Keyring:
        """The keys this passphrase opens; KeysUnavailable when it opens none of the stored ones (looked at
        again every RELOAD_SECONDS, not at every call: each look logs)."""
        if self._unopened_at is not None and time.monotonic() - self._unopened_at <= RELOAD_SECONDS:
            raise KeysUnavailable()
        if self._ring is None or time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            try:
                self._ring = await self._load()
            except KeysUnavailable:
                self._unopened_at, self._ring = time.monotonic(), None
                raise
            self._unopened_at, self._loaded_at = None, time.monotonic()
        return self._ring

    async def opens(self) -> bool:
        """Health check: False while the passphrase opens none of the stored keys, when nobody can sign in and
        the edge has no JWKS, so the service is not ready (a rollout with a wrong Secret stops there)."""
        try:
            await self.keyring()
        except Exception:  # the database's own check says when it is the database
            return False
        return True

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
        opened, of some: one line for the operator, and KeysUnavailable."""
        rows = await self._rows()
        opened = [key for row in rows if (key := self._open(row)) is not None]
        if rows and not opened:
            log.error(
                "ATHENAEUM_SIGNING_KEY_PASSPHRASE opens none of the %d stored signing keys: nobody can sign in, "
                "health is NOT_SERVING; start with the passphrase the keys were made with",
                len(rows),
            )
            raise KeysUnavailable()
        for row in rows:
            if row.kid not in {key.kid for key in opened}:
                log.error("signing key %s does not open with this passphrase: left out of the key ring", row.kid)
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


class KeysUnavailable(DependencyUnavailable):
    """Callers get UNAVAILABLE (a server fault the alerts count), not the operator's setting: that is logged."""

    def __init__(self) -> None:
        super().__init__("signing in is unavailable for now", reason="SIGNING_KEYS_UNAVAILABLE")


_COUNT = sa.select(sa.func.count()).select_from(signing_keys)
