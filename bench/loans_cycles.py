"""Issue+return cycles per second through the mesh, against a bare grpc.aio echo baseline in the same run.

A cycle is what the desk does: IssueLoan by barcode, then ReturnLoan by barcode, both gRPC through the
edge with a librarian's token. Each of `--concurrency` workers owns one copy and one patron and runs
cycles back to back. The IssueLoan saga calls users (eligibility) and catalog (look-up, title, check-out)
through the loans sidecar; ReturnLoan calls catalog (check-in); both commit with their outbox events.
The baseline is the same client doing two Health/Check calls per cycle against a bare grpc.aio server
(baselines.serve_baseline), before and after, so the ratio shows the cost of the real work.

Beside the rate: what one cycle costs (CPU per process from /proc, SQL statements from pg_stat_statements,
RPCs from the sidecars' stats) over the measured window, an issue and a return alone on an idle mesh, and
the latency at half of the peak rate (open loop: a cycle starts every 2/peak s, whatever the answers).
Run by hand (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from costs import Costs, Meter, costs, costs_table, detail
from desk import Desk, open_desk, register_readers, signing_in
from loadtools import RESULTS_DIR, machine_info, shown, work_folder
from mesh_setup import mesh_beside_echo, staff_token

REPO_ROOT = Path(__file__).resolve().parents[1]
Cycle = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class Result:
    name: str
    cycles_per_second: float
    p50_ms: float
    p99_ms: float
    cycles: int
    failed: int
    costs: Costs | None = None
    failures: Counter[str] = field(default_factory=Counter)
    """Failed calls by status code (a refused return leaves its copy out: the next issues fail too)."""


def _codes(failures: Counter[str]) -> str:
    return f" ({', '.join(f'{code} {n}' for code, n in failures.most_common())})" if failures else ""


def quantiles_ms(latencies: list[float]) -> tuple[float, float]:
    if len(latencies) < 2:
        return float("nan"), float("nan")
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


async def measure(
    name: str, cycle: Cycle, *, workers: int, seconds: float, warm_up: float, meter: Meter | None = None
) -> Result:
    """Run `cycle(worker)` back to back on every worker; latencies and costs of the measured window only."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    started = time.perf_counter()
    measure_from, stop_at = started + warm_up, started + warm_up + seconds

    async def worker(index: int) -> None:
        while (now := time.perf_counter()) < stop_at:
            try:
                await cycle(index)
            except grpc.aio.AioRpcError as error:
                failures[error.code().name] += 1
                continue
            if now >= measure_from:
                latencies.append(time.perf_counter() - now)

    async def metered() -> tuple[object, object]:
        await asyncio.sleep(warm_up)
        before = await asyncio.to_thread(meter.snapshot) if meter else None
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        return before, (await asyncio.to_thread(meter.snapshot) if meter else None)

    *_, (before, after) = await asyncio.gather(*(worker(i) for i in range(workers)), metered())
    p50, p99 = quantiles_ms(latencies)
    spent = costs(before, after, len(latencies)) if before and after else None  # type: ignore[arg-type]
    return Result(name, len(latencies) / seconds, p50, p99, len(latencies), failures.total(), spent, failures)


async def paced(name: str, cycle: Cycle, *, workers: int, rate: float, seconds: float) -> Result:
    """Open loop: a cycle starts every 1/rate s on a free worker; its latency counts from when it was due."""
    free: asyncio.Queue[int] = asyncio.Queue()
    for index in range(workers):
        free.put_nowait(index)
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    started = time.perf_counter()

    async def one(index: int, due: float) -> None:
        try:
            await cycle(index)
            latencies.append(time.perf_counter() - due)
        except grpc.aio.AioRpcError as error:
            failures[error.code().name] += 1
        finally:
            free.put_nowait(index)

    tasks = []
    for n in range(int(rate * seconds)):
        due = started + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(await free.get(), due)))
    await asyncio.gather(*tasks)
    p50, p99 = quantiles_ms(latencies)
    elapsed = time.perf_counter() - started
    return Result(name, len(latencies) / elapsed, p50, p99, len(latencies), failures.total(), failures=failures)


async def unloaded(desk: Desk, repeats: int) -> dict[str, tuple[float, float]]:
    """An issue and a return alone on the mesh (one worker, one at a time): p50 and p99 ms of each."""
    issues, returns = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        await desk.issue(0)
        issued = time.perf_counter()
        await desk.give_back(0)
        issues.append(issued - started)
        returns.append(time.perf_counter() - issued)
    return {"IssueLoan": quantiles_ms(issues), "ReturnLoan": quantiles_ms(returns)}


def echo_cycle(channel: grpc.aio.Channel) -> Cycle:
    stub = health_pb2_grpc.HealthStub(channel)

    async def cycle(_worker: int) -> None:
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=30)
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=30)

    return cycle


@dataclass
class Run:
    results: list[Result]
    unloaded: dict[str, tuple[float, float]]
    rss: dict[str, float]
    shed: int = 0
    sign_ins: Counter[str] = field(default_factory=Counter)
    """Sign-ins made during the full-load scenario (`--sign-ins-per-second`), by outcome."""


async def run_scenarios(mesh: object, baseline: str, meter: Meter, args: argparse.Namespace) -> Run:
    edge_target, edge_url = mesh.edge_grpc_target, mesh.edge_url  # type: ignore[attr-defined]
    token = await asyncio.to_thread(staff_token, edge_target)
    readers = await asyncio.to_thread(register_readers, edge_url, args.concurrency)
    patrons, emails = [name for name, _ in readers], [email for _, email in readers]
    async with grpc.aio.insecure_channel(baseline) as echo_channel, grpc.aio.insecure_channel(edge_target) as channel:
        echo = echo_cycle(echo_channel)
        desk = await open_desk(channel, token, patrons)
        timing = {"workers": args.concurrency, "seconds": args.duration, "warm_up": args.warm_up}
        await asyncio.to_thread(meter.settle)
        alone = await unloaded(desk, args.repeats)
        results = [await measure("baseline (2 x Health/Check)", echo, **timing)]
        async with signing_in(channel, emails, args.sign_ins_per_second) as sign_ins:
            results.append(await measure("issue+return via edge", desk.cycle, meter=meter, **timing))
        half = results[-1].cycles_per_second / 2
        pacing = {"workers": args.concurrency, "rate": half, "seconds": args.duration}
        results.append(await paced("issue+return at half peak", desk.cycle, **pacing))
        results.append(await measure("baseline (2 x Health/Check)", echo, **timing))
    return Run(results, alone, await asyncio.to_thread(meter.rss), desk.shed, sign_ins)


def table(results: list[Result]) -> str:
    baseline = statistics.mean(r.cycles_per_second for r in results if r.name.startswith("baseline"))
    rows = [
        "| scenario | cycles/s | ratio to baseline | p50 ms | p99 ms | cycles | failed |",
        "|---" + "|---:" * 6 + "|",
    ]
    rows += [
        f"| {r.name} | {r.cycles_per_second:,.1f} | {r.cycles_per_second / baseline:.4f} | {r.p50_ms:.1f} "
        f"| {r.p99_ms:.1f} | {r.cycles:,} | {r.failed}{_codes(r.failures)} |"
        for r in results
    ]
    return "\n".join(rows)


def write_report(run: Run, args: argparse.Namespace, started: datetime, load: list[float]) -> Path:
    results = run.results
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items() if key != "load tools")
    rates = [r.cycles_per_second for r in results if r.name.startswith("baseline")]
    per_cycle = {r.name: r.costs for r in results if r.costs}
    alone = "\n".join(f"| {name} | {p50:.1f} | {p99:.1f} |" for name, (p50, p99) in run.unloaded.items())
    text = f"""# Loans issue+return cycles — {started:%Y-%m-%d %H:%M} UTC

A cycle is IssueLoan by barcode then ReturnLoan by barcode, gRPC through the edge with an admin's token,
each worker with its own copy and patron. Baseline: the same Python grpc.aio client making two
Health/Check calls per cycle to a bare grpc.aio server, before and after. Everything shares the machine.

## Machine
{info}
- load average before the run (1/5/15 min): {" / ".join(f"{n:.2f}" for n in load)}

## Settings
- {args.duration} s measured per scenario after {args.warm_up} s of warm-up; {args.concurrency} workers;
  half peak: open loop at half the measured cycles/s for {args.duration} s
- readers signing in during the full-load scenario: {args.sign_ins_per_second:g} a second
  ({", ".join(f"{code} {n:,}" for code, n in run.sign_ins.most_common()) or "none"})

## Results
{table(results)}

Baseline drift between its first and last run: {abs(rates[0] - rates[-1]) / statistics.mean(rates):.1%}.
Calls the loans service shed (RESOURCE_EXHAUSTED, its admission limit) and the desk repeated: {run.shed:,}.

## Unloaded (one call at a time through the edge, {args.repeats} cycles)
| call | p50 ms | p99 ms |
|---|---:|---:|
{alone}

## Cost per cycle (the measured window at full load)
{costs_table(per_cycle, unit="cycle")}

{detail(per_cycle, unit="cycle", top=30)}

RSS of each service after the run (MiB): {", ".join(f"{k} {v:.0f}" for k, v in sorted(run.rss.items()))}

```
{shlex.join(["python", "bench/loans_cycles.py", *sys.argv[1:]])}
```
"""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"loans_cycles-{started:%Y-%m-%dT%H%M}.md"
    path.write_text(text)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per scenario (default 10)")
    parser.add_argument("--warm-up", type=float, default=3, help="seconds of discarded load first (default 3)")
    parser.add_argument("--concurrency", type=int, default=16, help="workers, each with a copy (default 16)")
    parser.add_argument("--repeats", type=int, default=50, help="unloaded issue+return cycles (default 50)")
    parser.add_argument(
        "--sign-ins-per-second", type=float, default=0, help="readers signing in during the full-load scenario"
    )
    args = parser.parse_args()
    started, load = datetime.now(UTC), list(os.getloadavg())
    # Each loan's notices sent as they come, as before batching: a notice held a minute for its siblings would
    # fall outside the measured seconds and its cost out of the cycle's (the launcher passes this on).
    os.environ.setdefault("ATHENAEUM_NOTICE_BATCH_WINDOW_SECONDS", "0")
    workdir = work_folder()
    with mesh_beside_echo(workdir / "mesh") as (mesh, baseline_target, _):
        run = asyncio.run(run_scenarios(mesh, baseline_target, Meter(mesh), args))
    shutil.rmtree(workdir, ignore_errors=True)
    print(table(run.results))
    print(f"report: {shown(write_report(run, args, started, load))}")
    return 1 if any(r.failed for r in run.results) else 0


if __name__ == "__main__":
    sys.exit(main())
