"""Freezing a process (SIGSTOP) for a test of what its peers do while it hangs: a stalled disk, a paused VM.

`os.kill` only asks for the stop. Each of the process's threads stops when the kernel next gets hold of it, and
on a loaded machine a thread already at work went on answering for a moment: a frozen NATS answered two of a
test's three probes after the kill. `freeze` returns once every thread is stopped.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def freeze(pid: int, *, within: float = 10.0) -> None:
    """SIGSTOP `pid`, then wait until every thread of it is stopped (AssertionError after `within` seconds)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + within
    while not _all_threads_stopped(pid):
        assert time.monotonic() < deadline, f"process {pid} did not stop within {within} s"
        time.sleep(0.005)


def thaw(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)


def _all_threads_stopped(pid: int) -> bool:
    tasks = Path(f"/proc/{pid}/task")
    states = []
    for task in tasks.iterdir():
        try:
            stat = (task / "stat").read_text()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        states.append(stat.rsplit(")", 1)[1].split()[0])  # the field after the command's name, which may hold ")"
    return bool(states) and all(state in ("T", "t") for state in states)
