"""Process groups, as the launcher stops its children: a signal to a whole group, whether any member is still
alive, a wait until none is; and the parent-death signal a child asks for between fork and exec."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when the thread that forked it exits."""
    # Runs in the child between fork and exec, after any uid/gid change (which would clear it).
    if _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to a process group; False when the group is already gone."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still alive (zombies do not count)."""
    # killpg(pgid, 0) also succeeds for zombies: orphaned grandchildren stay members until init reaps them.
    return signal_group(pgid, 0) and any(_live_member(stat, pgid) for stat in Path("/proc").glob("[0-9]*/stat"))


def _live_member(stat_file: Path, pgid: int) -> bool:
    try:
        stat = stat_file.read_text()
    except OSError:
        return False
    # /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split(" ", 3)[:3]
    return int(pgrp) == pgid and state not in ("Z", "X")


def wait_group_gone(pgid: int, timeout: float, reap: Callable[[], object] = lambda: None) -> bool:
    """Poll until no process of the group is left; False on timeout.

    `reap` lets the parent collect its own child: an unreaped zombie still counts as a group member.
    """
    deadline = time.monotonic() + timeout
    while True:
        reap()
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
