"""Issue+return cycles per second through the mesh, against a bare grpc.aio echo baseline in the same run.

A cycle is what the desk does: IssueLoan by barcode, then ReturnLoan by barcode, both gRPC through the
edge with a librarian's token. Each of `--concurrency` workers owns one copy and one patron and runs
cycles back to back. The IssueLoan saga calls users (eligibility) and catalog (look-up, title, check-out)
through the loans sidecar; ReturnLoan calls catalog (check-in); both commit with their outbox events.
The baseline is the same client doing two Health/Check calls per cycle against a bare grpc.aio server
(edge_throughput.serve_baseline), before and after, so the ratio shows the cost of the real work.
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
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edge_throughput import RESULTS_DIR, machine_info, start_baseline, start_mesh

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from services.users.settings import DEV_ADMIN_PASSWORD, UsersSettings

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


async def measure(name: str, cycle: Cycle, *, workers: int, seconds: float, warm_up: float) -> Result:
    """Run `cycle(worker)` back to back on every worker; latencies of the measured window only."""
    latencies: list[float] = []
    failures = 0
    started = time.perf_counter()
    measure_from, stop_at = started + warm_up, started + warm_up + seconds

    async def worker(index: int) -> None:
        nonlocal failures
        while (now := time.perf_counter()) < stop_at:
            try:
                await cycle(index)
            except grpc.aio.AioRpcError:
                failures += 1
                continue
            if now >= measure_from:
                latencies.append(time.perf_counter() - now)

    await asyncio.gather(*(worker(i) for i in range(workers)))
    cuts = statistics.quantiles(latencies, n=100)
    return Result(name, len(latencies) / seconds, cuts[49] * 1000, cuts[98] * 1000, len(latencies), failures)


def sign_in_admin(edge_url: str) -> str:
    with httpx.Client(base_url=edge_url, timeout=10) as edge:
        body = {"email": UsersSettings().bootstrap_admin_email, "password": DEV_ADMIN_PASSWORD}
        for _ in range(100):  # the edge accepts tokens once it has fetched the JWKS
            token = edge.post("/v1/auth/login", json=body).json()["tokens"]["access_token"]
            if edge.get("/v1/users/me", headers={"authorization": f"Bearer {token}"}).status_code == 200:
                return str(token)
            time.sleep(0.1)
    raise RuntimeError("the edge never accepted the admin's token")


def register_patrons(edge_url: str, count: int) -> list[str]:
    with httpx.Client(base_url=edge_url, timeout=10) as edge:
        names = []
        for _ in range(count):
            body = {"email": f"bench-{uuid.uuid4().hex[:10]}@example.org", "password": "Bench-Reader-42"}
            names.append(edge.post("/v1/auth/register", json=body).json()["user"]["name"])
        return names


async def loan_cycle(target: str, token: str, patrons: list[str]) -> tuple[Cycle, grpc.aio.Channel]:
    """One book with a copy per worker; the cycle issues and returns that worker's copy."""
    metadata = (("authorization", f"Bearer {token}"),)
    channel = grpc.aio.insecure_channel(target)
    catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
    book = await catalog.CreateBook(
        catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="The Overcoat")), metadata=metadata
    )
    barcodes = []
    for _ in patrons:
        copy = catalog_pb2.Copy(barcode=f"BENCH-{uuid.uuid4().hex[:10]}", item_type="BOOK")
        await catalog.CreateCopy(catalog_pb2.CreateCopyRequest(parent=book.name, copy=copy), metadata=metadata)
        barcodes.append(copy.barcode)
    loans = loans_pb2_grpc.LoansServiceStub(channel)

    async def cycle(worker: int) -> None:
        barcode = barcodes[worker]
        issue = loans_pb2.IssueLoanRequest(patron=patrons[worker], barcode=barcode, request_id=str(uuid.uuid4()))
        await loans.IssueLoan(issue, metadata=metadata, timeout=30)
        back = loans_pb2.ReturnLoanRequest(barcode=barcode, request_id=str(uuid.uuid4()))
        await loans.ReturnLoan(back, metadata=metadata, timeout=30)

    return cycle, channel


def echo_cycle(target: str) -> tuple[Cycle, grpc.aio.Channel]:
    channel = grpc.aio.insecure_channel(target)
    stub = health_pb2_grpc.HealthStub(channel)

    async def cycle(_worker: int) -> None:
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=30)
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=30)

    return cycle, channel


async def run_scenarios(edge_target: str, edge_url: str, baseline: str, args: argparse.Namespace) -> list[Result]:
    token = await asyncio.to_thread(sign_in_admin, edge_url)
    patrons = await asyncio.to_thread(register_patrons, edge_url, args.concurrency)
    echo, echo_channel = echo_cycle(baseline)
    loans, loans_channel = await loan_cycle(edge_target, token, patrons)
    timing = {"workers": args.concurrency, "seconds": args.duration, "warm_up": args.warm_up}
    try:
        return [
            await measure("baseline (2 x Health/Check)", echo, **timing),
            await measure("issue+return via edge", loans, **timing),
            await measure("baseline (2 x Health/Check)", echo, **timing),
        ]
    finally:
        await echo_channel.close()
        await loans_channel.close()


def table(results: list[Result]) -> str:
    baseline = statistics.mean(r.cycles_per_second for r in results if r.name.startswith("baseline"))
    rows = [
        "| scenario | cycles/s | ratio to baseline | p50 ms | p99 ms | cycles | failed |",
        "|---" + "|---:" * 6 + "|",
    ]
    rows += [
        f"| {r.name} | {r.cycles_per_second:,.1f} | {r.cycles_per_second / baseline:.4f} | {r.p50_ms:.1f} "
        f"| {r.p99_ms:.1f} | {r.cycles:,} | {r.failed} |"
        for r in results
    ]
    return "\n".join(rows)


def write_report(results: list[Result], args: argparse.Namespace, started: datetime, load: list[float]) -> Path:
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items() if key != "load tools")
    rates = [r.cycles_per_second for r in results if r.name.startswith("baseline")]
    text = f"""# Loans issue+return cycles — {started:%Y-%m-%d %H:%M} UTC

A cycle is IssueLoan by barcode then ReturnLoan by barcode, gRPC through the edge with an admin's token,
each worker with its own copy and patron. Baseline: the same Python grpc.aio client making two
Health/Check calls per cycle to a bare grpc.aio server, before and after. Everything shares the machine.

## Machine
{info}
- load average before the run (1/5/15 min): {" / ".join(f"{n:.2f}" for n in load)}

## Settings
- {args.duration} s measured per scenario after {args.warm_up} s of warm-up; {args.concurrency} workers

## Results
{table(results)}

Baseline drift between its first and last run: {abs(rates[0] - rates[-1]) / statistics.mean(rates):.1%}.

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
    args = parser.parse_args()
    from services.support.mesh.topology import free_ports

    started, load = datetime.now(UTC), list(os.getloadavg())
    workdir = Path(tempfile.mkdtemp(prefix="athenaeum-bench-"))
    workdir.chmod(0o755)  # Postgres runs as 'nobody' when the bench runs as root
    baseline_target = f"127.0.0.1:{next(free_ports())}"
    mesh = baseline = None
    try:
        mesh = start_mesh(workdir / "mesh")
        baseline = start_baseline(baseline_target)
        results = asyncio.run(run_scenarios(mesh.edge_grpc_target, mesh.edge_url, baseline_target, args))
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.join(timeout=10)
        if mesh is not None:
            mesh.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    print(table(results))
    print(f"report: {write_report(results, args, started, load).relative_to(REPO_ROOT)}")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
