"""What bursty work freed leaves the process once the burst is over (one glibc arena, then malloc_trim)."""

from __future__ import annotations

import asyncio
import ctypes
import subprocess
import sys
import textwrap

import pytest

from services.support.runtime import memory

# A fresh interpreter: the arena policy is process-wide. Two threads hash passwords with the users service's
# argon2id parameters, as its hashing threads do; the figures are what stays resident.
_PROGRAM = textwrap.dedent(
    """
    import sys, threading
    from services.support.runtime import memory
    from services.users.data.passwords import MEMORY_COST_KIB, PARALLELISM, TIME_COST
    from argon2 import PasswordHasher, Type
    if sys.argv[1] == "one-arena":
        assert memory.use_one_arena()
    hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM, type=Type.ID)
    def rss_kib():
        return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])
    def hashing():
        for n in range(3):
            hasher.hash(f"password {n}")
    hasher.hash("decoy")  # as the service does at start, on the main thread
    before = rss_kib()
    threads = [threading.Thread(target=hashing) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    kept = rss_kib() - before
    memory.release_free_memory()
    print(kept, rss_kib() - before)
    """
)


def _resident_kib(mode: str) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, check=True)
    kept, released = done.stdout.split()
    return int(kept), int(released)


def _glibc() -> bool:
    return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not _glibc(), reason="the policy is glibc's")
def test_with_one_arena_a_trim_releases_what_the_hashing_threads_freed() -> None:
    _, released_from_arenas_per_thread = _resident_kib("arena-per-thread")
    _, released_from_one_arena = _resident_kib("one-arena")
    assert released_from_arenas_per_thread > 30 * 1024  # a block stays per thread: why users takes one arena
    assert released_from_one_arena < 2 * 1024


async def test_idle_release_runs_once_after_the_last_touch(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[float] = []
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(memory, "release_free_memory", lambda: released.append(loop.time()))
    # Half a second idle, touched again after 0.03 s: a loaded machine's event loop may come late by a lot
    # before the first release would be due (with 0.05 s it came after it now and then).
    idle = memory.IdleRelease(after_seconds=0.5)
    idle.touch()
    await asyncio.sleep(0.03)
    last_touch = loop.time()
    idle.touch()  # still busy: the first release is called off
    async with asyncio.timeout(10):
        while not released:  # noqa: ASYNC110 (a patched function: nothing to wait on)
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # and nothing follows it
    assert len(released) == 1
    assert released[0] >= last_touch + 0.5
