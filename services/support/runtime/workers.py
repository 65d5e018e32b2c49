"""Work that runs in an OS process of its own beside a service's gRPC server, so CPU-bound consumers get a
core of their own (a Python process uses one at most).

The service's composition root starts the worker (`SupervisedWorker.run` as a background task); the worker
runs `run_worker` in a spawned child. The child reports once a second through a pipe: whether its work is
healthy, and a snapshot of its Prometheus metrics, which the service's /metrics serves labelled
process=<role>. A worker that dies (kill -9, a crash) is started again after a growing delay, and the
service is NOT_SERVING from its death until the new one reports healthy. The child dies with the service
(PR_SET_PDEATHSIG), and stops on SIGTERM or SIGINT as the service does.
"""

from __future__ import annotations

import asyncio
import copy
import ctypes
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import REGISTRY, Metric

from services.support.runtime import telemetry
from services.support.runtime.event_loop import EventLoop, run_on

if TYPE_CHECKING:
    from services.support.runtime.zygote import Zygote

log = logging.getLogger("athenaeum.workers")

REPORT_SECONDS = 1.0
STALE_AFTER_SECONDS = 10.0
"""A worker that has not reported for this long is unhealthy (stuck, or its pipe broke)."""
STOP_GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


@dataclass(frozen=True, slots=True)
class Report:
    """What a worker tells the service once a second."""

    healthy: bool
    metrics: list[Metric] = field(default_factory=list)


Entry = Callable[..., None]
"""A module-level function (spawn pickles it by name) whose last argument is the report pipe."""


class ChildProcess(Protocol):
    """What the supervisor uses of a worker's process: a spawned multiprocessing.Process or a ZygoteChild."""

    @property
    def pid(self) -> int | None: ...
    @property
    def sentinel(self) -> int: ...
    @property
    def exitcode(self) -> int | None: ...
    def is_alive(self) -> bool: ...
    def join(self, timeout: float | None = None) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


class SupervisedWorker:
    """One worker process as the service sees it: started, watched, started again when it dies."""

    def __init__(
        self,
        role: str,
        entry: Entry,
        args: tuple[Any, ...],
        *,
        first_delay: float = 0.5,
        max_delay: float = 10.0,
        stale_after: float = STALE_AFTER_SECONDS,
        zygote: Zygote | None = None,
    ) -> None:
        self.role = role
        self._entry = entry
        self._args = args
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stale_after = stale_after
        self._zygote = zygote
        """Forks each incarnation (sharing the service's imported memory); without it each is spawned."""
        self._process: ChildProcess | None = None
        self._last: Report | None = None
        self._reported_at = 0.0
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def check(self) -> bool:
        """A health DependencyCheck: the worker runs, reports, and says its work is healthy."""
        process, last = self._process, self._last
        if process is None or not process.is_alive() or last is None:
            return False
        return last.healthy and time.monotonic() - self._reported_at < self._stale_after

    def collect(self) -> Iterable[Metric]:
        """The worker's last metrics (nothing while it is down)."""
        process, last = self._process, self._last
        return last.metrics if last is not None and process is not None and process.is_alive() else []

    async def run(self) -> None:
        """Start the worker and keep it running until cancelled; then stop it (SIGTERM, SIGKILL after a grace)."""
        telemetry.serve_also(self.collect)
        delay = self._first_delay
        try:
            while True:
                started = time.monotonic()
                code = await self._run_once()
                self.restarts += 1
                log.error("worker %s exited (code %s); starting it again in %.1f s", self.role, code, delay)
                await asyncio.sleep(delay)
                # A worker that ran a while before dying starts over from the first delay.
                long_lived = time.monotonic() - started > 6 * self._max_delay
                delay = self._first_delay if long_lived else min(delay * 2, self._max_delay)
        finally:
            await self._stop()

    async def _run_once(self) -> int | None:
        self._last = None
        receiver, sender = multiprocessing.Pipe(duplex=False)
        process: ChildProcess
        if self._zygote is not None:
            process = self._zygote.start(sender, self.role)
        else:  # never fork a process that runs gRPC and asyncio threads
            spawned = multiprocessing.get_context("spawn").Process(
                target=self._entry, args=(*self._args, sender), name=self.role, daemon=False
            )
            spawned.start()  # from the loop's thread, which lives as long as the service (PR_SET_PDEATHSIG)
            process = spawned
        sender.close()
        self._process = process
        loop = asyncio.get_running_loop()
        exited = asyncio.Event()
        loop.add_reader(receiver.fileno(), self._receive, receiver)
        loop.add_reader(process.sentinel, exited.set)  # readable once the process has ended
        try:
            await exited.wait()
        finally:
            loop.remove_reader(process.sentinel)
            loop.remove_reader(receiver.fileno())
            receiver.close()
        await asyncio.to_thread(process.join, STOP_GRACE_SECONDS)
        return process.exitcode

    def _receive(self, receiver: Connection) -> None:
        try:
            while receiver.poll():
                self._last = receiver.recv()
                self._reported_at = time.monotonic()
        except (EOFError, OSError):  # the worker is gone; run() sees it exit
            asyncio.get_running_loop().remove_reader(receiver.fileno())

    async def _stop(self) -> None:
        process = self._process
        if process is None or not process.is_alive():
            return
        process.terminate()
        await asyncio.to_thread(process.join, STOP_GRACE_SECONDS)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join, STOP_GRACE_SECONDS)


def run_worker(
    role: str,
    connection: Connection,
    work: Callable[[], Awaitable[None]],
    healthy: Callable[[], bool],
    *,
    loop: EventLoop = "asyncio",
) -> None:
    """The child's side: run `work` until SIGTERM/SIGINT or the service's death, reporting on `connection`."""
    die_with_parent()
    name_process(role)

    async def report() -> None:
        while True:
            snapshot = [_labelled(metric, role) for metric in REGISTRY.collect()]
            connection.send(Report(healthy=healthy(), metrics=snapshot))
            await asyncio.sleep(REPORT_SECONDS)

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        reporter = asyncio.create_task(report())
        try:
            await work()
        finally:
            reporter.cancel()

    try:
        run_on(loop, main())
    except (asyncio.CancelledError, BrokenPipeError):  # asked to stop, or the service is gone
        return


def die_with_parent() -> None:
    """SIGTERM this process when the process that started it (the service, or its zygote) dies, even by kill -9."""
    parent = multiprocessing.parent_process()
    die_with(parent.pid if parent is not None else None)


def name_process(name: str) -> None:
    """The name ps, top and /proc/<pid>/comm show (its first 15 characters): the command line is the service's."""
    ctypes.CDLL(None).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def die_with(parent: int | None) -> None:
    """SIGTERM this process when its parent (`parent`, if known) dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if parent is not None and os.getppid() != parent:  # it died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def _labelled(metric: Metric, role: str) -> Metric:
    labelled = copy.copy(metric)
    labelled.samples = [sample._replace(labels={**sample.labels, "process": role}) for sample in metric.samples]
    return labelled
