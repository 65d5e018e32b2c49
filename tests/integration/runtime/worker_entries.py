"""Worker entry points for test_workers (spawn imports them by module name in the child)."""

from __future__ import annotations

import asyncio
from multiprocessing.connection import Connection

from prometheus_client import Counter

from services.support.runtime.workers import run_worker

WORKED = Counter("athenaeum_test_worker_rounds_total", "Rounds a test worker ran.")


def counting(connection: Connection) -> None:
    """A healthy worker that counts its rounds."""

    async def work() -> None:
        while True:
            WORKED.inc()
            await asyncio.sleep(0.05)

    run_worker("counting", connection, work, lambda: True)


def unwell(connection: Connection) -> None:
    """A worker that runs but says its work is not healthy."""
    run_worker("unwell", connection, asyncio.Event().wait, lambda: False)
