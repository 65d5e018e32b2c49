"""Memory that large, bursty work freed goes back to the operating system once the burst is over.

glibc keeps what a process frees for reuse, and gives each thread that allocates its own arena. Work that
needs a large block per call in worker threads (argon2id: 19 MiB per password hash) so leaves one such block
resident per thread that ever hashed (the users service sat at 173 MiB after a burst of sign-ins, 64 MiB of
it kept this way). Keeping the blocks while the burst lasts is right: mapping them afresh on every call
costs their page faults (measured: +38 % CPU per sign-in). So such a service uses one arena (the blocks are
then at the top of one heap) and calls `IdleRelease.touch()` after each call: a moment after the last one,
`malloc_trim` hands the free memory back (~1 ms). Where the C library is not glibc this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
from typing import Any

_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


@functools.cache
def _glibc() -> Any | None:
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def use_one_arena() -> bool:
    """Every thread allocates from the main arena, so one trim releases what any of them freed. Call it
    before the worker threads start; False where there is no glibc."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, 1))


def release_free_memory() -> None:
    """Hand the pages nothing uses back to the operating system (glibc's malloc_trim)."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)


class IdleRelease:
    """Releases free memory once `after_seconds` have passed since the last `touch()` (a burst is over)."""

    def __init__(self, after_seconds: float = 1.0) -> None:
        self._after = after_seconds
        self._pending: asyncio.TimerHandle | None = None

    def touch(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._pending = asyncio.get_running_loop().call_later(self._after, release_free_memory)
