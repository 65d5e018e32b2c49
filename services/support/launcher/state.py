"""The launcher's state file: lets `athenaeum down` / `status` in another shell find a running mesh.

Each process is recorded with its start time, so a pid the kernel has since reused for something else
is never signalled.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from services.support.launcher.process_groups import signal_group, wait_group_gone
from services.support.launcher.processes import DEFAULT_GRACE_SECONDS, ManagedProcess

STATE_FILE = "launcher.json"
LOCK_FILE = "launcher.lock"
"""Locked by the launcher running the mesh of the folder, for as long as it runs (the kernel drops the lock when
the launcher dies, however it dies)."""
POINTER_FILE = "current-mesh"
"""In the default data folder: the folder of a mesh `up --data-dir` started elsewhere, for `down` and `status`."""


def state_path(data_dir: Path) -> Path:
    """Where the state of the mesh run from `data_dir` is kept."""
    return data_dir / STATE_FILE


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def describe(process: ManagedProcess) -> dict[str, Any]:
    """The state-file entry of one supervised process."""
    pid = process.pid if process.running else None
    return {
        "name": process.name,
        "pid": pid,
        "create_time": _create_time(pid) if pid else None,
        "log": str(process.log_path),
        "restarts": process.restarts,
        "gave_up": process.gave_up,
        **process.spec.extra,
    }


def write_state(
    data_dir: Path, processes: list[ManagedProcess], endpoints: dict[str, Any], *, ready: bool = False
) -> None:
    """Record this launcher, its children, the mesh's endpoints and whether start-up finished (atomically: the
    file is whole or as it was). OSError when it cannot be written (a full disk)."""
    state = {
        "ready": ready,
        "launcher_pid": os.getpid(),
        "launcher_create_time": _create_time(os.getpid()),
        "endpoints": endpoints,
        "processes": [describe(process) for process in processes],
    }
    path = state_path(data_dir)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a disk full cut it short: no half-written file left beside the state
        raise


class StateRecorder:
    """Writes the state file of the mesh whose folder this launcher holds: a convenience for `status`, `down` and
    `restart` in other shells, never a reason to stop. On a full disk the mesh runs on (Postgres and NATS refuse
    writes cleanly until space is freed); a failed write is told once, until one succeeds again."""

    def __init__(self, data_dir: Path, warn: Callable[[str], None]) -> None:
        self.data_dir = data_dir
        self._warn = warn
        self._failing = False

    def record(self, processes: list[ManagedProcess], endpoints: dict[str, Any], *, ready: bool) -> None:
        try:
            write_state(self.data_dir, processes, endpoints, ready=ready)
        except OSError as error:
            if not self._failing:
                self._failing = True
                self._tell(
                    f"cannot record the mesh's state in {state_path(self.data_dir)} ({error.strerror or error}): "
                    "the mesh runs on, but `athenaeum status`, `down` and `restart` from another shell may not see "
                    "it until the file can be written again"
                )
            return
        if self._failing:
            self._failing = False
            self._tell(f"the mesh's state is recorded again in {state_path(self.data_dir)}")

    def _tell(self, warning: str) -> None:
        with contextlib.suppress(OSError):  # the launcher's output may be a file on the same full disk
            self._warn(warning)


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The recorded state, or None when no mesh was started from `data_dir`."""
    try:
        return json.loads(state_path(data_dir).read_text())
    except (OSError, ValueError):
        return None


def clear_state(data_dir: Path) -> None:
    """Forget the recorded mesh."""
    state_path(data_dir).unlink(missing_ok=True)


class MeshAlreadyRunning(RuntimeError):
    """Another launcher runs a mesh from this data folder."""


def claim(data_dir: Path) -> int:
    """Lock `data_dir` for this launcher (the descriptor holds the lock until closed), or raise
    MeshAlreadyRunning, touching nothing, when another launcher runs a mesh from it."""
    descriptor = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        _refuse(data_dir, running_launcher(data_dir))
    other = running_launcher(data_dir)  # a launcher of a version that took no lock
    if other not in (None, os.getpid()):
        os.close(descriptor)
        _refuse(data_dir, other)
    return descriptor


def _refuse(data_dir: Path, pid: int | None) -> None:
    which = f" (pid {pid})" if pid else ""
    raise MeshAlreadyRunning(
        f"a mesh is already running from {data_dir}{which}: `athenaeum down --data-dir {data_dir}` stops it"
    )


def point_to(data_dir: Path, default_dir: Path) -> str | None:
    """Let `down` / `status` without --data-dir find the mesh of `data_dir` (kept in `default_dir`); returns
    the folder pointed to before, for forget_pointer."""
    if data_dir.resolve() == default_dir.resolve():
        return None
    pointer = default_dir / POINTER_FILE
    previous = None
    with contextlib.suppress(OSError):
        previous = pointer.read_text()
    default_dir.mkdir(parents=True, exist_ok=True)
    pointer.write_text(str(data_dir.resolve()))
    return previous


def forget_pointer(data_dir: Path, default_dir: Path, previous: str | None = None) -> None:
    """Drop the pointer of `point_to`, unless another mesh has taken it since, and point again to the folder
    it named before: an `up` that could not start (ports taken by the running mesh) lost that mesh for
    `down` and `status` (locate ignores a folder whose mesh has stopped since)."""
    pointer = default_dir / POINTER_FILE
    with contextlib.suppress(OSError):
        if pointer.read_text() == str(data_dir.resolve()):
            if previous and previous != str(data_dir.resolve()):
                pointer.write_text(previous)
            else:
                pointer.unlink()


def locate(default_dir: Path) -> Path:
    """The data folder of the mesh to act on when none is named: the default one if a mesh was started there,
    else the one the last `up --data-dir …` pointed to (if its mesh is still recorded), else the default one."""
    if read_state(default_dir) is not None:
        return default_dir
    with contextlib.suppress(OSError):
        pointed = Path((default_dir / POINTER_FILE).read_text().strip())
        if read_state(pointed) is not None:
            return pointed
    return default_dir


def is_same_process(pid: int | None, create_time: float | None) -> bool:
    """Whether `pid` is still the process that was recorded (not a reused pid)."""
    if not pid or create_time is None:
        return False
    current = _create_time(pid)
    return current is not None and abs(current - create_time) < 0.01


def running_launcher(data_dir: Path) -> int | None:
    """The pid of the launcher running the mesh of `data_dir`, if it is still alive."""
    state = read_state(data_dir)
    if state and is_same_process(state.get("launcher_pid"), state.get("launcher_create_time")):
        return int(state["launcher_pid"])
    return None


# The launcher stops its parts group by group, services after their drain (components.service_spec).
LAUNCHER_STOP_SECONDS = 60.0


def stop_recorded_mesh(data_dir: Path, grace: float = LAUNCHER_STOP_SECONDS) -> list[str]:
    """Stop a mesh started from `data_dir` by another process; returns the names of what was stopped."""
    state = read_state(data_dir)
    if state is None:
        return []
    running = [entry["name"] for entry in state["processes"] if is_same_process(entry["pid"], entry["create_time"])]
    launcher = running_launcher(data_dir)
    if launcher is not None:
        # The launcher stops its children in order on SIGTERM; give it time to do so.
        os.kill(launcher, signal.SIGTERM)
        _wait_pid_gone(launcher, grace)
    for entry in state["processes"]:
        _stop_leftover(entry)
    clear_state(data_dir)
    return running


def _stop_leftover(entry: dict[str, Any]) -> None:
    # Children normally die with their launcher; this catches any that outlived it.
    if not is_same_process(entry.get("pid"), entry.get("create_time")):
        return
    pgid = int(entry["pid"])
    signal_group(pgid, signal.SIGTERM)
    if not wait_group_gone(pgid, DEFAULT_GRACE_SECONDS):
        signal_group(pgid, signal.SIGKILL)
        wait_group_gone(pgid, DEFAULT_GRACE_SECONDS)


def _exited(pid: int) -> bool:
    # A zombie has exited; only its parent (often a shell) can make it vanish.
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_pid_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.02)
