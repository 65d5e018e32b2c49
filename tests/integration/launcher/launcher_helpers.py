"""Checks that processes are gone, shared by the launcher's integration tests."""

from __future__ import annotations

import time

import psutil


def is_gone(pid: int) -> bool:
    """Exited (a zombie waiting for a reaper that is not us counts as exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """Poll until every pid has exited; returns those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    while (alive := [pid for pid in pids if not is_gone(pid)]) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


def processes_mentioning(text: str) -> list[psutil.Process]:
    """Live processes whose command line mentions `text` (e.g. a data folder)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if text in cmdline and not is_gone(process.pid):
            found.append(process)
    return found
