"""Password hashing with argon2id (argon2-cffi), off the event loop and with bounded concurrency.

Parameters: memory 19 MiB, 2 passes, 1 lane (the OWASP Password Storage Cheat Sheet's argon2id
baseline). About 22 ms per hash on one core of the reference machine: slow enough to make offline
guessing expensive, cheap enough that a 2-core host still signs in ~80 people a second. More memory
(RFC 9106's 64 MiB profile) costs ~120 ms and would make a login flood a memory flood; concurrency is
capped at the CPU count so a burst queues instead of multiplying the 19 MiB. `finished` is called after each
hash (the composition root hands the 19 MiB blocks back to the OS once a burst is over).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1


class Argon2Passwords:
    """hash / verify in worker threads (argon2-cffi releases the GIL while it works), at most one per core."""

    def __init__(
        self,
        *,
        time_cost: int = TIME_COST,
        memory_cost: int = MEMORY_COST_KIB,
        parallelism: int = PARALLELISM,
        concurrency: int | None = None,
        finished: Callable[[], None] = lambda: None,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 1)
        self._finished = finished
        # Verified when the email is unknown, so that answer takes as long as a wrong password.
        self._decoy = self._hasher.hash("decoy password for unknown accounts")

    async def hash(self, password: str) -> str:
        async with self._slots:
            try:
                return await asyncio.to_thread(self._hasher.hash, password)
            finally:
                self._finished()

    async def verify(self, stored_hash: str, password: str) -> bool:
        """True when `password` matches; a missing or corrupt hash verifies the decoy and fails."""
        target = stored_hash or self._decoy
        async with self._slots:
            try:
                ok = await asyncio.to_thread(self._matches, target, password)
            finally:
                self._finished()
        return ok and bool(stored_hash)

    async def verify_decoy(self, password: str) -> None:
        """Spend the time a real verification would, for an account that does not exist."""
        await self.verify("", password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters: sign_in replaces it after a successful check."""
        return self._hasher.check_needs_rehash(stored_hash)

    def _matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
