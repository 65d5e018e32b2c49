"""Measuring units of work in this process, against a Postgres of its own, the variants alternated: the harness
of `units_of_work.py`, `loans_steps.py` and `catalog_steps.py`. Reports CPU microseconds of this process and
of Postgres (every backend) and wall microseconds per call."""

from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import uvloop
from costs import postgres_cpu
from loadtools import RESULTS_DIR, machine_info, work_folder

from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.processes import Supervisor
from services.support.mesh.topology import free_ports

Work = Callable[[], Awaitable[None]]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(work: Work, count: int, postmaster: int) -> tuple[float, float, float]:
    """CPU (this process's, Postgres's) and wall microseconds per call, after a warm-up of count / 10 calls."""
    for _ in range(count // 10):
        await work()
    cpu, server, wall = cpu_seconds(), postgres_cpu(postmaster), time.perf_counter()
    for _ in range(count):
        await work()
    per_call = [cpu_seconds() - cpu, postgres_cpu(postmaster) - server, time.perf_counter() - wall]
    return (per_call[0] / count * 1e6, per_call[1] / count * 1e6, per_call[2] / count * 1e6)


Runs = dict[str, list[tuple[float, float, float]]]


async def alternated(variants: dict[str, Work], count: int, postmaster: int) -> Runs:
    """Each variant measured, then each again: a drift of the machine shows in both."""
    results: Runs = {}
    for _ in range(2):
        for name, work in variants.items():
            results.setdefault(name, []).append(await measure(work, count, postmaster))
    return results


def _figures(runs: list[tuple[float, float, float]], at: int) -> str:
    return " / ".join(f"{run[at]:.0f}" for run in runs)


def machine() -> str:
    return "\n".join(f"- {key}: {value}" for key, value in machine_info().items() if key != "load tools")


def result_rows(results: Runs) -> str:
    """The Markdown rows: each variant's CPU (this process, Postgres) and wall microseconds, run by run."""
    return "\n".join(
        f"| {name} | {_figures(runs, 0)} | {_figures(runs, 1)} | {_figures(runs, 2)} |"
        for name, runs in results.items()
    )


def write_report(bench: str, started: datetime, text: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{bench}-{started:%Y-%m-%dT%H%M}.md"
    path.write_text(text)
    return path


def on_local_postgres(database: str, run: Callable[[str, int], Awaitable[Runs]], *, tcp: bool = False) -> Runs:
    """`run(url, postmaster pid)` on uvloop against a Postgres of its own (started here, removed after), in
    a new database; each variant's figures printed. `tcp`: it listens on loopback TCP too (as the mesh's
    Postgres does only with `up --postgres-tcp`), for a bench that compares the two."""
    folder = work_folder(f"athenaeum-bench-{database}-")
    supervisor = Supervisor(folder / "logs")
    postgres = LocalPostgres(folder / "postgres", next(free_ports()), supervisor, tcp=tcp)
    try:
        postmaster = postgres.start().pid
        assert postmaster is not None
        results = uvloop.run(run(postgres.create_database(database), postmaster))
    finally:
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    for name, runs in results.items():
        print(f"{name}: {_figures(runs, 0)} us CPU, Postgres {_figures(runs, 1)} us, wall {_figures(runs, 2)} us")
    return results
