"""Supervision of the mesh's child processes.

Every child runs in its own process group (so stopping it also stops whatever it forked), writes
stdout/stderr to `<log_dir>/<name>.log`, and gets PR_SET_PDEATHSIG so it dies with the launcher even when
the launcher itself is killed with SIGKILL. Children are spawned from one long-lived thread owned by the
supervisor: Linux delivers the parent-death signal when the *thread* that forked the child exits, so
spawning from a short-lived worker thread would kill the child as soon as that thread finished.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.support.launcher.process_groups import die_with_parent, kill_tree, signal_group, wait_group_gone
from services.support.launcher.process_logs import log_tail, private_log

Popen = subprocess.Popen[bytes]
Spawner = Callable[[Callable[[], Popen]], Popen]
DEFAULT_GRACE_SECONDS = 5.0


class ProcessFailed(RuntimeError):
    """A child exited (or never became ready) while the mesh was starting."""


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one child."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None
    """Run as this user (and its primary group, no supplementary groups); None keeps ours."""
    group: str | None = None
    stop_signal: int = signal.SIGTERM
    """The graceful stop request (Postgres wants SIGINT: "fast" shutdown)."""
    stop_grace: float = DEFAULT_GRACE_SECONDS
    """How long a graceful stop may take before SIGKILL (a service: its drain and its closers)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form facts recorded in the state file (ports, role)."""


@dataclass(frozen=True)
class RestartPolicy:
    """How a supervisor brings crashed children back: after a growing delay, and not forever."""

    max_crashes: int = 5
    """More crashes than this within `window_seconds` and the supervisor gives up on the child."""
    window_seconds: float = 60.0
    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 10.0

    def delay(self, recent_crashes: int) -> float:
        return min(self.first_delay_seconds * 2 ** max(recent_crashes - 1, 0), self.max_delay_seconds)


class ManagedProcess:
    """One supervised child: start, stop, kill -9, restart; and the record a supervisor keeps of its crashes."""

    def __init__(self, spec: ProcessSpec, log_path: Path, spawn: Spawner):
        self.spec = spec
        self.log_path = log_path
        self._spawn = spawn
        self._popen: Popen | None = None
        self.wanted = False
        """True between start() and stop(): an exit while wanted is a crash."""
        self.restarts = 0
        self.gave_up = False
        self._crashes: deque[float] = deque()
        self._restart_at: float | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def poll(self) -> int | None:
        """The exit code once the child has exited, else None."""
        return self._popen.poll() if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        """Spawn the child (no readiness wait: the owner of the process knows what ready means)."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self._popen = self._spawn(self._popen_child)
        self.wanted = True

    def _popen_child(self) -> Popen:
        with private_log(self.log_path) as log:
            return subprocess.Popen(
                list(self.spec.argv),
                env=dict(self.spec.env) if self.spec.env is not None else None,
                cwd=self.spec.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
                user=self.spec.user,
                group=self.spec.group,
                extra_groups=[] if self.spec.user is not None else None,
                preexec_fn=die_with_parent,
            )

    def stop(self, grace: float | None = None) -> None:
        """Ask the group to stop, SIGKILL it after `grace` seconds (default: the spec's stop_grace), and reap
        the child."""
        self.wanted = False
        if self._popen is None:
            return
        grace = self.spec.stop_grace if grace is None else grace
        pgid, reap = self._popen.pid, self._popen.poll
        if signal_group(pgid, self.spec.stop_signal) and not wait_group_gone(pgid, grace, reap):
            kill_tree(pgid, grace, reap)
        self._reap()

    def kill(self) -> None:
        """SIGKILL the child and everything below it at once (a crash, as `kill -9` of a container would do),
        and reap it. When it returns, none of them runs: starting the child again meets nothing of the old."""
        if self._popen is None:
            return
        kill_tree(self._popen.pid, DEFAULT_GRACE_SECONDS, self._popen.poll)
        self._reap()

    def restart(self, grace: float | None = None) -> None:
        """Stop (if running) and start again; a manual restart also forgives past crashes."""
        self.stop(grace)
        self.gave_up, self._restart_at = False, None
        self._crashes.clear()
        self.start()

    def supervise(self, policy: RestartPolicy, now: float) -> str | None:
        """Restart a crashed child once its delay has passed; give up after too many crashes.
        Returns a line worth telling the user, if anything happened."""
        if not self.wanted or self.gave_up or self.running:
            return None
        if self._restart_at is None:  # a crash seen for the first time
            self._crashes.append(now)
            while self._crashes and now - self._crashes[0] > policy.window_seconds:
                self._crashes.popleft()
            code = self.poll()
            if len(self._crashes) > policy.max_crashes:
                self.gave_up = True
                return (
                    f"{self.name} crashed {len(self._crashes)} times in {policy.window_seconds:.0f} s (exit code "
                    f"{code}); giving up. Log: {self.log_path}. `athenaeum restart {self.name}` tries again."
                )
            delay = policy.delay(len(self._crashes))
            self._restart_at = now + delay
            return f"{self.name} exited (code {code}); restarting in {delay:.1f} s. Log: {self.log_path}"
        if now < self._restart_at:
            return None
        self._restart_at = None
        try:
            self.start()
        except OSError as error:  # out of processes or memory for a moment: a crash like any other, not ours
            return f"{self.name} could not be started again ({error}); trying again. Log: {self.log_path}"
        self.restarts += 1
        return f"{self.name} restarted ({self.restarts} so far)"

    def _reap(self) -> None:
        if self._popen is not None:
            try:
                self._popen.wait(timeout=DEFAULT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()

    def check_alive(self) -> None:
        """Raise ProcessFailed (with the end of its log) if the child has exited."""
        code = self.poll()
        if self._popen is not None and code is not None:
            raise ProcessFailed(f"{self.name} exited with code {code}; log {self.log_path}:\n{log_tail(self.log_path)}")


class Supervisor:
    """Starts children in order and stops them in reverse order; a context manager that never leaks."""

    def __init__(self, log_dir: Path, *, on_change: Callable[[Supervisor], None] | None = None):
        self.log_dir = log_dir
        self._processes: dict[str, ManagedProcess] = {}
        self._lock = threading.Lock()
        self._on_change = on_change
        self._spawner = self._new_spawner()

    @staticmethod
    def _new_spawner() -> ThreadPoolExecutor:
        # Its one thread is created on first use and lives until stop_all(): the parent of every child.
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="athenaeum-spawner")

    def _spawn(self, popen: Callable[[], Popen]) -> Popen:
        return self._spawner.submit(popen).result()

    def start(self, spec: ProcessSpec) -> ManagedProcess:
        """Start a child (thread-safe) and record it; the name must be unique."""
        process = ManagedProcess(spec, self.log_dir / f"{spec.name}.log", self._spawn)
        with self._lock:
            if spec.name in self._processes:
                raise ValueError(f"a process named {spec.name!r} is already supervised")
            self._processes[spec.name] = process
        process.start()
        self._changed()
        return process

    def process(self, name: str) -> ManagedProcess:
        """The supervised child called `name`."""
        return self._processes[name]

    @property
    def processes(self) -> list[ManagedProcess]:
        with self._lock:
            return list(self._processes.values())

    def check_alive(self) -> None:
        """Raise ProcessFailed if any child has exited."""
        for process in self.processes:
            process.check_alive()

    def supervise(self, policy: RestartPolicy) -> list[str]:
        """One round of supervision (call it every half second or so): restart what crashed, within the
        policy; returns what happened, for the user."""
        now = time.monotonic()
        events = [event for process in self.processes if (event := process.supervise(policy, now))]
        if events:
            self._changed()
        return events

    def stop_all(self, grace: float | None = None) -> None:
        """Stop every child, last started first; the spawner thread goes last."""
        for process in reversed(self.processes):
            process.stop(grace)
        self._changed()
        self._spawner.shutdown(wait=True)
        self._spawner = self._new_spawner()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()
