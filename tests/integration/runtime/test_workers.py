"""A worker process beside a service: in its health while it runs and reports, started again after a
kill -9, its metrics on the service's /metrics, and stopped with the service."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import pytest
import worker_entries

from services.support.runtime.telemetry import exposed_metrics
from services.support.runtime.workers import SupervisedWorker

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


async def test_a_worker_killed_with_sigkill_is_unhealthy_until_a_new_one_reports() -> None:
    worker = SupervisedWorker("counting", worker_entries.counting, (), first_delay=0.3)
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
