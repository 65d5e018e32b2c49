"""What an idle pause before a call costs on this machine: p50 latency of one call at a time, back to back and
after pauses of 2, 10 and 50 ms, for the bare grpc.aio echo, a cached GetBook through the edge, the same from
loans through the sidecars, and an issue+return at the desk. The unloaded figures of loans_cycles.py are such
calls; how much of them is the processes waking up, not work, this says.

Run by hand from the repository root: `python bench/wakeups.py` (writes bench/results/wakeups-<time>.md).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc
from desk import open_desk, register_readers
from grpc_health.v1 import health_pb2, health_pb2_grpc
from loadtools import RESULTS_DIR, machine_info, shown, work_folder
from mesh_setup import mesh_beside_echo, staff_token

REPO_ROOT = Path(__file__).resolve().parents[1]
PAUSES = (0.0, 0.002, 0.01, 0.05)
CALLS = 80
SKIPPED = 10
"""The first calls of each series warm connections and caches."""

Call = Callable[[], Awaitable[object]]


async def p50s(call: Call) -> list[float]:
    """p50 ms of `call` alone, after each pause."""
    found = []
    for pause in PAUSES:
        timings = []
        for _ in range(CALLS):
            started = time.perf_counter()
            await call()
            timings.append(time.perf_counter() - started)
            if pause:
                await asyncio.sleep(pause)
        found.append(statistics.median(timings[SKIPPED:]) * 1000)
    return found


async def echo_row(target: str) -> list[float]:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return await p50s(lambda: stub.Check(health_pb2.HealthCheckRequest()))


async def mesh_rows(mesh: object) -> dict[str, list[float]]:
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

    token = await asyncio.to_thread(staff_token, mesh.edge_grpc_target)  # type: ignore[attr-defined]
    ((patron, _),) = await asyncio.to_thread(register_readers, mesh.edge_url, 1)  # type: ignore[attr-defined]
    rows = {}
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:  # type: ignore[attr-defined]
        desk = await open_desk(channel, token, [patron])
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        found = await catalog.SearchBooks(catalog_pb2.SearchBooksRequest(query="Overcoat"), metadata=desk.metadata)
        get_book = catalog_pb2.GetBookRequest(name=found.results[0].book.name)
        metadata = desk.metadata
        rows["GetBook through the edge (cached)"] = await p50s(lambda: catalog.GetBook(get_book, metadata=metadata))

        async def cycle() -> None:
            await desk.cycle(0)

        rows["issue+return at the desk"] = await p50s(cycle)
    async with grpc.aio.insecure_channel(mesh.outbound_target("loans")) as channel:  # type: ignore[attr-defined]
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        rows["GetBook from loans through the sidecars"] = await p50s(lambda: catalog.GetBook(get_book))
    return rows


def write_report(started: datetime, rows: dict[str, list[float]]) -> Path:
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items())
    header = " | ".join(f"after {pause * 1000:.0f} ms" for pause in PAUSES)
    cells = {name: " | ".join(f"{p50:.2f}" for p50 in values) for name, values in rows.items()}
    lines = "\n".join(f"| {name} | {values} |" for name, values in cells.items())
    text = f"""# Wake-ups — {started:%Y-%m-%d %H:%M} UTC

p50 ms of one call at a time, {CALLS} calls a series (the first {SKIPPED} not counted), after each pause.

## Machine
{info}

## Results
| call | {header} |
|---|{"---:|" * len(PAUSES)}
{lines}
"""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"wakeups-{started:%Y-%m-%dT%H%M}.md"
    path.write_text(text)
    return path


def main() -> int:
    started = datetime.now(UTC)
    workdir = work_folder()
    with mesh_beside_echo(workdir / "mesh") as (mesh, echo_target, _):
        rows = {"bare grpc.aio echo": asyncio.run(echo_row(echo_target)), **asyncio.run(mesh_rows(mesh))}
    shutil.rmtree(workdir, ignore_errors=True)
    report = write_report(started, rows)
    print(report.read_text())
    print(f"report: {shown(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
