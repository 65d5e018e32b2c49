"""A service's large freed blocks go back to the operating system (glibc's mmap threshold, fixed at start)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import textwrap

import pytest

from services.support.runtime.memory import LARGE_BLOCK

# Run in a fresh interpreter: the policy is process-wide, and pytest's own heap would blur the figures.
# The first block is freed before the second is measured, which is what raises glibc's dynamic threshold.
_PROGRAM = textwrap.dedent(
    """
    import ctypes, sys
    from services.support.runtime.memory import release_large_blocks
    if sys.argv[1] == "fixed":
        assert release_large_blocks()
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    size = 19 * 1024 * 1024  # argon2id's block
    def rss_kib():
        status = open("/proc/self/status").read()
        return int(status.split("VmRSS:")[1].split()[0])
    libc.free(libc.malloc(size))
    before = rss_kib()
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(block)
    print(rss_kib() - before)
    """
)


def _kept_kib(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def _glibc() -> bool:
    return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not _glibc(), reason="the policy is glibc's")
def test_a_freed_large_block_leaves_the_process_once_the_threshold_is_fixed() -> None:
    assert _kept_kib("dynamic") > 15 * 1024  # glibc's default keeps the argon2-sized block resident
    assert _kept_kib("fixed") < 2 * 1024


def test_the_threshold_sits_between_a_batch_and_a_password_hash() -> None:
    assert 1024 * 1024 < LARGE_BLOCK < 19 * 1024 * 1024
