"""Process groups, as the launcher stops its children: a signal to a whole group, whether any member is still
alive, a wait until none is; a crash of a child's whole tree; and the parent-death signal a child asks for
between fork and exec."""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
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


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, in whatever group it put itself (a Postgres backend makes itself the leader of
    one, so a signal to the postmaster's group never reaches it). Empty where the kernel does not list children."""
    found: list[int] = []
    with contextlib.suppress(OSError):  # `pid` ended meanwhile
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for child in map(int, (task / "children").read_text().split()):
                    found += [child, *descendants(child)]
    return found


def kill_tree(pgid: int, timeout: float, reap: Callable[[], object] = lambda: None) -> bool:
    """SIGKILL the group led by `pgid` and every descendant of its leader that left the group, at once, as a
    crash of the container would; wait until all are gone. False on timeout.

    Killing the group alone lets a Postgres server's backends live on until they notice their postmaster is
    gone, still attached to its shared memory: a server started again meanwhile refuses to run ("pre-existing
    shared memory block is still in use"). The group is stopped first, so nobody forks while its tree is read;
    the others are held by pidfd, so a pid used again meanwhile is never signalled.
    """
    deadline = time.monotonic() + timeout
    signal_group(pgid, signal.SIGSTOP)
    handles = []
    for pid in descendants(pgid):
        with contextlib.suppress(OSError):  # ended meanwhile
            handles.append(os.pidfd_open(pid))
    try:
        signal_group(pgid, signal.SIGKILL)
        for handle in handles:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(handle, signal.SIGKILL)
        gone = wait_group_gone(pgid, timeout, reap)
        # A pidfd turns readable once its process has exited (its memory released), reaped or not.
        return (
            all(select.select([handle], [], [], max(0.0, deadline - time.monotonic()))[0] for handle in handles)
            and gone
        )
    finally:
        for handle in handles:
            os.close(handle)
