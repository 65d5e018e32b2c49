"""A worker process beside a service: in its health while it runs and reports, started again after a
kill -9, its metrics on the service's /metrics, and stopped with the service."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import worker_entries

from services.support.runtime.telemetry import exposed_metrics
from services.support.runtime.workers import SupervisedWorker
from services.support.runtime.zygote import Zygote

pytestmark = pytest.mark.integration


async def eventually(condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + 20.0
    while not await _holds(condition):
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def _holds(condition: Callable[[], object]) -> bool:
    result = condition()
    return bool(await result if asyncio.iscoroutine(result) else result)


def rounds(role: str) -> float:
    return sum(
        sample.value
        for family in exposed_metrics()
        for sample in family.samples
        if sample.name == "athenaeum_test_worker_rounds_total" and sample.labels.get("process") == role
    )


@pytest.fixture(params=["spawned", "forked by a zygote"])
def counting_zygote(request: pytest.FixtureRequest) -> Iterator[Zygote | None]:
    """None: each incarnation is spawned; else a zygote (forked here, outside the test's event loop) forks them."""
    if request.param == "spawned":
        yield None
        return
    zygote = Zygote.fork(worker_entries.counting, ())
    yield zygote
    zygote.close()


async def test_a_worker_killed_with_sigkill_is_unhealthy_until_a_new_one_reports(
    counting_zygote: Zygote | None,
) -> None:
    worker = SupervisedWorker("counting", worker_entries.counting, (), first_delay=0.3, zygote=counting_zygote)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(worker.check)
        await eventually(lambda: rounds("counting") > 0)  # the worker's metrics, labelled with its role
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: not worker.collect())
        assert not await worker.check()
        await eventually(worker.check)
        assert worker.pid != first and worker.restarts == 1
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert not _alive(worker.pid), "the worker stops with the service"


async def test_a_worker_forked_by_a_zygote_shares_the_memory_the_service_had_when_it_forked_it() -> None:
    ballast = os.urandom(64 << 20)  # 64 MiB of the "service's imports", made before the zygote
    zygote = Zygote.fork(worker_entries.counting, ())
    worker = SupervisedWorker("counting", worker_entries.counting, (), zygote=zygote)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(worker.check)
        shared, private = _memory_kib(worker.pid)
        assert shared > 64 << 10 and private < 48 << 10, (shared, private)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        zygote.close()
    assert len(ballast) == 64 << 20
    assert not _alive(worker.pid), "the worker stops with the service"


async def test_a_worker_dies_with_its_zygote_which_dies_with_the_service() -> None:
    zygote = Zygote.fork(worker_entries.counting, ())
    worker = SupervisedWorker("counting", worker_entries.counting, (), zygote=zygote, first_delay=60)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(worker.check)
        os.kill(zygote.pid, signal.SIGKILL)  # as the service's death would end the zygote (PR_SET_PDEATHSIG)
        await eventually(lambda: not _alive(worker.pid))
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await asyncio.to_thread(os.waitpid, zygote.pid, 0)


def _memory_kib(pid: int | None) -> tuple[int, int]:
    """The worker's resident memory shared with other processes, and its own (KiB)."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    fields = dict(line.split(":", 1) for line in rollup)
    kib = {name: int(value.split()[0]) for name, value in fields.items()}
    return kib["Shared_Clean"] + kib["Shared_Dirty"], kib["Private_Clean"] + kib["Private_Dirty"]


async def test_a_worker_that_reports_unhealthy_work_makes_the_service_unhealthy() -> None:
    worker = SupervisedWorker("unwell", worker_entries.unwell, ())
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: worker.collect())  # it reports
        assert not await worker.check()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
