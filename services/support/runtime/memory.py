"""Large buffers go back to the operating system when they are freed, instead of staying in the process.

glibc raises its mmap threshold to the size of the largest block freed so far (up to 32 MiB), after which
blocks of that size come from the heap of the thread's arena and stay resident when freed. A service that
once hashed a password (argon2id: a 19 MiB block per worker thread) or read a large batch would keep that
memory for good: ~19 MiB more RSS per thread that ever did. A fixed threshold keeps every block of
`LARGE_BLOCK` or more in its own mapping, unmapped on free. The price is the page faults of mapping it
again (measured in bench/README.md for the password hash). Other C libraries: nothing to do.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("athenaeum.memory")

LARGE_BLOCK = 4 * 1024 * 1024
"""Above any buffer a request or a batch needs; below argon2id's 19 MiB."""
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def release_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Fix glibc's mmap threshold (which also stops its dynamic adjustment); False where there is no glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    applied = bool(mallopt(_M_MMAP_THRESHOLD, threshold))
    if not applied:
        log.warning("malloc refused an mmap threshold of %d bytes", threshold)
    return applied
