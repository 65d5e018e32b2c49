"""Saturation: more desks than the mesh can serve, with and without admission, in the same run.

`--clients` desks (default 100) each own a copy and a patron and run issue+return cycles back to back for
`--duration` seconds, gRPC through the edge. A call shed by admission (RESOURCE_EXHAUSTED) is re-sent with
the same request_id after the Retry-After it was given (plus jitter), as a well-behaved client does.
Scenarios, each on a mesh of its own: admission off (every call queues: what the mesh did before), then
admission on (the services' default limit, or `--limit`). An echo baseline (two Health/Check calls per
cycle to a bare grpc.aio server) runs first and last, for the ratios and the machine's drift.

Reported per scenario: cycles/s (and as a ratio to the echo baseline), p50/p99 of admitted requests (each
IssueLoan or ReturnLoan that was let in, from its sending to its answer), p50/p99 of whole cycles (sheds and
waits included), the share of calls shed, other failures, and the CPU milliseconds the mesh spent per cycle.
Run by hand (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import start_baseline
from desk import register_patrons
from edge_throughput import RESULTS_DIR, machine_info
from loadtools import shown, work_folder
from loans_cycles import echo_cycle, measure
from mesh_setup import staff_token, start_mesh

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[1]
Metadata = tuple[tuple[str, str], ...]


@dataclass
class Tally:
    admitted: list[float] = field(default_factory=list)
    """Latency of each admitted call answered in the measured window."""
    cycles: list[float] = field(default_factory=list)
    """Duration of each cycle begun in the window (sheds and waits included), finished even after it."""
    returned: int = 0
    """Cycles completed (returns answered) in the window: the throughput."""
    shed: int = 0
    failed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    name: str
    cycles_per_second: float
    admitted_p50_ms: float
    admitted_p99_ms: float
    cycle_p50_ms: float
    cycle_p99_ms: float
    shed_share: float
    failed: int
    cpu_ms_per_cycle: float
    load: tuple[float, float, float]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


async def admitted_call(
    method: Callable[..., Awaitable[object]],
    request: object,
    metadata: object,
    tally: Tally,
    measuring: Callable[[], bool],
) -> None:
    """The call, re-sent after each shed as Retry-After says; the latency of the attempt let in."""
    while True:
        sent = time.perf_counter()
        try:
            await method(request, metadata=metadata, timeout=60)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            tally.shed += measuring()
            after = dict(error.trailing_metadata() or ()).get("retry-after", "1")
            await asyncio.sleep(float(after) * (0.5 + random.random()))
            continue
        if measuring():
            tally.admitted.append(time.perf_counter() - sent)
        return


async def copies_for(stub: catalog_pb2_grpc.CatalogServiceStub, metadata: Metadata, count: int) -> list[str]:
    """A book with `count` copies: their barcodes."""
    book = await stub.CreateBook(
        catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="The Nose")), metadata=metadata
    )
    barcodes = []
    for _ in range(count):
        copy = catalog_pb2.Copy(barcode=f"SAT-{uuid.uuid4().hex[:10]}", item_type="BOOK")
        await stub.CreateCopy(catalog_pb2.CreateCopyRequest(parent=book.name, copy=copy), metadata=metadata)
        barcodes.append(copy.barcode)
    return barcodes


async def desks(
    loans: loans_pb2_grpc.LoansServiceStub,
    metadata: Metadata,
    work: list[tuple[str, str]],
    *,
    seconds: float,
    warm_up: float,
) -> Tally:
    """Each (patron, barcode) desk runs cycles back to back; what the measured window saw."""
    tally = Tally()
    started = time.perf_counter()
    measure_from, stop_at = started + warm_up, started + warm_up + seconds

    def measuring() -> bool:
        return measure_from <= time.perf_counter() < stop_at

    async def desk(patron: str, barcode: str) -> None:
        while time.perf_counter() < stop_at:  # no new cycle after the window; the one begun finishes
            issue = loans_pb2.IssueLoanRequest(patron=patron, barcode=barcode, request_id=str(uuid.uuid4()))
            back = loans_pb2.ReturnLoanRequest(barcode=barcode, request_id=str(uuid.uuid4()))
            began = time.perf_counter()
            try:
                await admitted_call(loans.IssueLoan, issue, metadata, tally, measuring)
                await admitted_call(loans.ReturnLoan, back, metadata, tally, measuring)
            except grpc.aio.AioRpcError as error:
                tally.failed[error.code().name] = tally.failed.get(error.code().name, 0) + 1
                await asyncio.sleep(0.5)
                continue
            tally.returned += measuring()
            if began >= measure_from:
                tally.cycles.append(time.perf_counter() - began)

    await asyncio.gather(*(desk(patron, barcode) for patron, barcode in work))
    return tally


async def measured(mesh, token: str, patrons: list[str], args: argparse.Namespace) -> tuple[Tally, float]:
    """The desks' tally, and the mesh's CPU seconds over the measured window."""
    metadata: Metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        barcodes = await copies_for(catalog_pb2_grpc.CatalogServiceStub(channel), metadata, len(patrons))
        run = asyncio.create_task(
            desks(
                loans_pb2_grpc.LoansServiceStub(channel),
                metadata,
                list(zip(patrons, barcodes, strict=True)),
                seconds=args.duration,
                warm_up=args.warm_up,
            )
        )
        await asyncio.sleep(args.warm_up)
        before = mesh_cpu_seconds(mesh)
        await asyncio.sleep(args.duration)
        cpu = mesh_cpu_seconds(mesh) - before
        return await run, cpu


def mesh_cpu_seconds(mesh) -> float:
    """utime + stime of every process of the mesh, Postgres backends included (their process groups)."""
    groups = {process.pid for process in mesh.processes if process.pid}
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # pgrp
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def scenario(name: str, limit: int | None, workdir: Path, args: argparse.Namespace) -> Outcome:
    """One run on a fresh mesh; `limit` None: the services' own admission settings."""
    os.environ.pop("ATHENAEUM_ADMISSION_LIMIT", None)
    if limit is not None:
        os.environ["ATHENAEUM_ADMISSION_LIMIT"] = str(limit)
    mesh = start_mesh(workdir / name.split()[0])
    try:
        token = staff_token(mesh.edge_grpc_target)
        patrons = register_patrons(mesh.edge_url, args.clients)
        tally, cpu = asyncio.run(measured(mesh, token, patrons, args))
        load = os.getloadavg()
    finally:
        mesh.stop()
    calls = len(tally.admitted) + tally.shed
    return Outcome(
        name,
        tally.returned / args.duration,
        percentile(tally.admitted, 50),
        percentile(tally.admitted, 99),
        percentile(tally.cycles, 50),
        percentile(tally.cycles, 99),
        tally.shed / calls if calls else 0.0,
        sum(tally.failed.values()),
        cpu * 1000 / max(tally.returned, 1),
        load,
    )


def table(outcomes: list[Outcome], baseline: float) -> str:
    rows = [
        "| scenario | cycles/s | ratio to echo | admitted p50 ms | admitted p99 ms | cycle p50 ms | cycle p99 ms "
        "| shed | failed | CPU ms/cycle | load 1/5/15 |",
        "|---" + "|---:" * 10 + "|",
    ]
    rows += [
        f"| {o.name} | {o.cycles_per_second:.1f} | {o.cycles_per_second / baseline:.4f} | {o.admitted_p50_ms:.0f} "
        f"| {o.admitted_p99_ms:.0f} | {o.cycle_p50_ms:.0f} | {o.cycle_p99_ms:.0f} | {o.shed_share:.0%} | {o.failed} "
        f"| {o.cpu_ms_per_cycle:.0f} | {' / '.join(f'{n:.1f}' for n in o.load)} |"
        for o in outcomes
    ]
    return "\n".join(rows)


def write_report(text: str, args: argparse.Namespace, started: datetime, load: list[float], drift: float) -> Path:
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items() if key != "load tools")
    report = f"""# Saturation — {started:%Y-%m-%d %H:%M} UTC

{args.clients} desks, each issuing and returning its own copy back to back for {args.duration} s (after
{args.warm_up} s of warm-up), gRPC through the edge; a shed call is re-sent after its Retry-After. Each
scenario on a fresh mesh; the echo baseline before and after.

## Machine
{info}
- load average before the run (1/5/15 min): {" / ".join(f"{n:.2f}" for n in load)}

## Results
{text}

Echo baseline drift between its first and last run: {drift:.1%}.

```
{shlex.join(["python", "bench/saturation.py", *sys.argv[1:]])}
```
"""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"saturation-{started:%Y-%m-%dT%H%M}.md"
    path.write_text(report)
    return path


def echo(target: str, args: argparse.Namespace) -> float:
    async def run() -> float:
        async with grpc.aio.insecure_channel(target) as channel:
            result = await measure("echo", echo_cycle(channel), workers=args.clients, seconds=10, warm_up=2)
        return result.cycles_per_second

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=100, help="desks, each with a copy (default 100)")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured per scenario (default 60)")
    parser.add_argument("--warm-up", type=float, default=5, help="seconds of discarded load first (default 5)")
    parser.add_argument("--limit", type=int, help="admission limit of the second scenario (default: the services')")
    args = parser.parse_args()
    from services.support.mesh.topology import free_ports

    started, load = datetime.now(UTC), list(os.getloadavg())
    workdir = work_folder()
    baseline_target = f"127.0.0.1:{next(free_ports())}"
    baseline = start_baseline(baseline_target)
    try:
        before = echo(baseline_target, args)
        outcomes = [
            scenario("admission off (limit 0)", 0, workdir, args),
            scenario(f"admission on (limit {args.limit or 'default'})", args.limit, workdir, args),
        ]
        after = echo(baseline_target, args)
    finally:
        baseline.terminate()
        baseline.join(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
    text = table(outcomes, statistics.mean((before, after)))
    print(text)
    drift = abs(before - after) / statistics.mean((before, after))
    print(f"report: {shown(write_report(text, args, started, load, drift))}")
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
