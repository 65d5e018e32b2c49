"""Worker processes forked from a copy of the service made before it started anything: they share its
imported modules' memory instead of importing them again.

A spawned worker starts a new interpreter and imports everything the service imported: ~60-80 MiB of
private memory per worker. Forking the running service is not safe (its gRPC and asyncio threads, its event
loop), so `Zygote.fork` forks once, at the composition root, before any thread or loop exists: the zygote
sits idle and forks each incarnation of the worker on request. Its children start from the same pages as
the service (copy-on-write), so a worker costs what it touches, not what it imports.

The service drives a worker through `ZygoteChild`, which `SupervisedWorker` uses as it uses a spawned
multiprocessing.Process: started, watched through a pidfd (readable once the worker ended), signalled, and
joined for its exit code, which the zygote (its parent) sends when it reaps it. The zygote ignores SIGINT
(a terminal's ^C reaches the whole process group: the service stops its worker itself) and dies with the
service; the worker dies with the zygote (both PR_SET_PDEATHSIG). A zygote killed on its own cannot be
replaced (the service runs threads by then): the supervisor's next start fails, and the service stops, to
be started again whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import select
import signal
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any

from services.support.runtime.workers import Entry, die_with, name_process


class Zygote:
    """The service's side of one zygote: it forks incarnations of one worker (`entry` with `args`)."""

    def __init__(self, pid: int, control: Connection) -> None:
        self.pid = pid
        self._control = control

    @classmethod
    def fork(cls, entry: Entry, args: tuple[Any, ...]) -> Zygote:
        """Fork the zygote. Call it before the service starts a thread or an event loop."""
        service = os.getpid()
        ours, theirs = multiprocessing.Pipe(duplex=True)
        gc.freeze()  # the imported heap in no generation: collections in either process leave its pages shared
        pid = os.fork()
        if pid == 0:  # the zygote: never returns into the service's code
            code = 1
            try:
                ours.close()
                _serve(theirs, entry, args, service)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        return cls(pid, ours)

    def start(self, sender: Connection, name: str) -> ZygoteChild:
        """Fork an incarnation that reports on `sender` (its last argument)."""
        try:
            while self._control.poll(0):  # the exit of an incarnation that ended while nobody joined it
                self._control.recv()
            self._control.send(("start", name))
            send_handle(self._control, sender.fileno(), self.pid)
            kind, pid = self._control.recv()
        except (EOFError, OSError) as error:
            raise RuntimeError(f"the zygote of {name} is gone: the service has to be started again") from error
        if kind != "started":
            raise RuntimeError(f"the zygote answered {kind!r} to start")
        return ZygoteChild(pid, self._control)

    def close(self) -> None:
        """Let the zygote end (it ends too when the service does) and reap it."""
        self._control.close()
        os.waitpid(self.pid, 0)


class ZygoteChild:
    """An incarnation as the service sees it (the subset of multiprocessing.Process that SupervisedWorker uses)."""

    def __init__(self, pid: int, control: Connection) -> None:
        self.pid = pid
        self.exitcode: int | None = None
        self._control = control
        self.sentinel = os.pidfd_open(pid)
        """Readable once the process has ended (a pidfd works for a process that is not our child)."""

    def is_alive(self) -> bool:
        return self.exitcode is None and not _readable(self.sentinel, 0.0)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the end and take the exit code the zygote reaped (kept None if it does not come in time)."""
        if self.exitcode is not None or not _readable(self.sentinel, timeout):
            return
        try:
            if not self._control.poll(timeout):
                return
            kind, code = self._control.recv()
        except (EOFError, OSError):  # the zygote is gone (killed): starting another incarnation will fail
            kind, code = "zygote gone", None
        self.exitcode = code if kind == "exited" else -1
        os.close(self.sentinel)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self.exitcode is None:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                signal.pidfd_send_signal(self.sentinel, signum)  # by pidfd: never a process that reused the pid


def _readable(fd: int, timeout: float | None) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def _serve(control: Connection, entry: Entry, args: tuple[Any, ...], service: int) -> None:
    """The zygote's loop: fork an incarnation when asked, report its exit code once it ends."""
    die_with(service)
    name_process("zygote")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.events._set_running_loop(None)  # forked by a thread that ran a loop (tests): not this process's
    context = multiprocessing.get_context("fork")  # this process runs no thread: forking it is safe
    child: multiprocessing.process.BaseProcess | None = None
    while True:
        ready = wait([control] if child is None else [control, child.sentinel])
        if child is not None and child.sentinel in ready:
            child.join()
            control.send(("exited", child.exitcode))
            child = None
        if control not in ready:
            continue
        try:
            kind, name = control.recv()
        except EOFError:  # the service is gone
            return
        if kind != "start":
            continue
        sender = Connection(recv_handle(control), readable=False)
        if child is not None:  # one incarnation at a time
            sender.close()
            control.send(("busy", child.pid))
            continue
        child = context.Process(target=entry, args=(*args, sender), name=name, daemon=False)
        child.start()
        sender.close()
        control.send(("started", child.pid))
