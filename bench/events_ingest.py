"""Events ingestion through the edge: accepted/s, stored/s, p99 at half load, the events service's RSS and the
CPU each process spends per 1,000 events, against raw asyncpg COPY of the same rows into the same Postgres.

Starts the whole mesh in a temporary folder. Concurrent gRPC clients send BatchRecordEvents of `--batch`
events (built and serialized before the clock starts) through the edge, back to back, for `--duration`
seconds; the bench then waits, asking AggregateEvents, until every accepted event is counted (stored/s is
accepted events over the time from the first send to the last one counted). A second phase sends at half
the stored rate and measures the latency of each call. The baseline: the same rows COPYed straight into a
plain table of the events database with asyncpg, before the load and again after it (the machine is shared,
and a few seconds' figure swings), with its CPU per 1,000 rows. Run by hand (see bench/README.md). The load
itself (building, sending, waiting until stored) is events_load.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from costs import cpu_seconds, postgres_cpu, process_tree, pss_mib, rss_mib
from events_baselines import journal_designs, raw_copy
from events_load import Phase, batches, send, tail_of, wait_stored
from loadtools import RESULTS_DIR, machine_info
from mesh_setup import staff_token, start_mesh

from services.support.launcher.process_groups import descendants


def process_cpu(mesh) -> dict[str, float]:
    """CPU seconds so far of each process that ingestion goes through (Postgres with all its backends; the
    events service's gRPC process and, apart, the processes it started: its store processes)."""
    wanted = {"edge": "edge", "events-sidecar": "events sidecar", "events": "events service (gRPC process)"}
    totals = {label: cpu_seconds(mesh.process(name).pid) for name, label in wanted.items()}
    events = mesh.process("events").pid
    totals["events store process(es)"] = sum(cpu_seconds(pid) for pid in descendants(events))
    totals["NATS"] = cpu_seconds(mesh.process("nats").pid)
    postgres = mesh.process("postgres").pid
    totals["Postgres (all backends)"] = postgres_cpu(postgres)
    totals["bench client"] = time.process_time()
    return totals


async def watch_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    """RSS peaks of the gRPC process, of the processes it started (together) and of all of them together; and
    the peak of all of them with each page counted once (the sum of their PSS)."""
    while not stop.is_set():
        every = process_tree(pid)
        own, started = rss_mib(pid), sum(rss_mib(child) for child in every[1:])
        once = sum(map(pss_mib, every))
        peak[:] = max(peak[0], own), max(peak[1], started), max(peak[2], own + started), max(peak[3], once)
        await asyncio.sleep(0.2)


def p99_ms(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else float("nan")


async def run(args: argparse.Namespace, mesh) -> dict[str, object]:
    target = mesh.edge_grpc_target
    token = staff_token(target)
    kind = f"bench.ingest{uuid.uuid4().hex[:8]}"
    count = max(1, int(args.events / args.batch))
    print(f"building {count} batches of {args.batch} events…", flush=True)
    payloads = batches(kind, count, args.batch, one_time=args.one_time)
    events_pid = mesh.process("events").pid
    peak, stop = [0.0, 0.0, 0.0, 0.0], asyncio.Event()
    watcher = asyncio.create_task(watch_rss(events_pid, peak, stop))

    # The baseline before and after the load (the machine is shared: one moment's figure can be far off).
    print("raw COPY baseline…", flush=True)
    copy_first = await raw_copy(mesh.database_url("events"), payloads, mesh.process("postgres").pid)
    since, cpu_before = datetime.now(UTC), process_cpu(mesh)
    full = Phase("full load")
    started = time.perf_counter()
    print(f"full load: {args.clients} clients…", flush=True)
    await send(target, token, payloads, clients=args.clients, rate=0, phase=full)
    every_one_accepted = full.accepted == count * args.batch
    tail = tail_of(payloads, 2 * args.clients) if every_one_accepted and not args.one_time else None
    stored_seconds = await wait_stored(target, token, kind, full.accepted, since, started, tail=tail)
    cpu_after = process_cpu(mesh)
    stored_rate = full.accepted / stored_seconds

    half_kind = kind + "half"
    half_count = max(1, int(stored_rate / 2 * args.half_duration / args.batch))
    half_payloads = batches(half_kind, half_count, args.batch, one_time=args.one_time)
    half = Phase("half load")
    print(f"half load: {stored_rate / 2:,.0f} events/s…", flush=True)
    await send(target, token, half_payloads, clients=1, rate=stored_rate / 2 / args.batch, phase=half)
    stop.set()
    await watcher

    print("raw COPY baseline again…", flush=True)
    copy_last = await raw_copy(mesh.database_url("events"), payloads, mesh.process("postgres").pid)
    print("journal designs…", flush=True)
    designs = await journal_designs(mesh.nats_url, payloads, mesh.process("nats").pid, mesh.nats_client_options())
    cpu = {name: (cpu_after[name] - cpu_before[name]) / full.accepted * 1e6 for name in cpu_before}
    return {
        "full": full, "half": half, "stored_rate": stored_rate, "stored_seconds": stored_seconds,
        "copies": (copy_first, copy_last), "rss": peak, "cpu": cpu, "designs": designs,
    }  # fmt: skip


def report(results: dict[str, object], args: argparse.Namespace, started: datetime, load: tuple[float, ...]) -> str:
    full, half = results["full"], results["half"]
    assert isinstance(full, Phase) and isinstance(half, Phase)
    stored = float(results["stored_rate"])  # type: ignore[arg-type]
    cpu, rss, copies = results["cpu"], results["rss"], results["copies"]
    assert isinstance(cpu, dict) and isinstance(rss, list) and isinstance(copies, tuple)
    copy = statistics.mean(rate for rate, _ in copies)
    copy_cpu = statistics.mean(ms for _, ms in copies)
    stored_cpu = sum(cpu.values())
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items())
    cpu_rows = "\n".join(f"| {name} | {ms:.1f} |" for name, ms in cpu.items())
    designs = results["designs"]
    assert isinstance(designs, dict)
    design_rows = "\n".join(f"| {name} | {rate:,.0f} | {ms:.1f} |" for name, (rate, ms) in designs.items())
    return f"""# Events ingestion — {started:%Y-%m-%d %H:%M} UTC

BatchRecordEvents of {args.batch} events through the edge (gRPC), {args.clients} concurrent clients, then
AggregateEvents until every accepted event is stored (the last batches' moments counted first, then the whole
run: since 2026-12-03, before it the whole run every 0.25 s); the same rows COPYed by asyncpg into a plain table of
the same database as the baseline. Client, Envoys, services, NATS and Postgres share the machine.
Events' occur_time: {"all the same moment" if args.one_time else "20 us apart, ascending"}.

## Machine
{info}
- load average before the run (1/5/15 min): {" / ".join(f"{n:.2f}" for n in load)}

## Results
| | value | target |
|---|---|---|
| accepted | {full.accepted / full.seconds:,.0f} events/s ({full.accepted:,} in {full.seconds:.1f} s, {full.failed} failed calls) | |
| stored (end to end) | {stored:,.0f} events/s (all stored {float(results["stored_seconds"]):.1f} s after the first send) | ≥ 50,000 |
| raw asyncpg COPY, same rows (before / after the load) | {copies[0][0]:,.0f} / {copies[1][0]:,.0f} rows/s, mean {copy:,.0f} | |
| stored / raw COPY (the mean) | {stored / copy:.1%} | ≥ 40 % |
| CPU per 1,000 events: raw COPY (client + Postgres) / stored end to end (every process below) | {copy_cpu:.1f} / {stored_cpu:.1f} ms = {copy_cpu / stored_cpu:.1%} | |
| BatchRecordEvents at half load ({half.accepted / max(half.seconds, 1e-9):,.0f} events/s) | p50 {statistics.median(half.latencies) * 1000:.1f} ms, p99 {p99_ms(half.latencies):.1f} ms ({half.failed} failed) | p99 < 100 ms |
| BatchRecordEvents at full load | p50 {statistics.median(full.latencies) * 1000:.1f} ms, p99 {p99_ms(full.latencies):.1f} ms | |
| events service RSS (peak), gRPC process | {rss[0]:.0f} MiB | ≤ 150 MiB |
| events service RSS (peak), the processes it started (store processes, and their zygotes or multiprocessing's resource tracker) | {rss[1]:.0f} MiB | |
| events service RSS (peak), all its processes (a page they share counted in each) | {rss[2]:.0f} MiB | |
| events service memory (peak), all its processes, each page counted once (sum of PSS) | {rss[3]:.0f} MiB | ≤ 150 MiB |

## CPU per 1,000 events stored (full-load phase, until all were stored)
| process | CPU ms / 1,000 events |
|---|---|
{cpu_rows}

## Journal design: one JetStream message per event or per batch (20,000 events, file storage, Nats-Msg-Id)
| design | events/s | CPU ms / 1,000 events (client + NATS) |
|---|---|---|
{design_rows}

## Command
```
{shlex.join(["python", "bench/events_ingest.py", *sys.argv[1:]])}
```
"""  # noqa: E501


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=500_000, help="Events sent in the full-load phase.")
    parser.add_argument("--batch", type=int, default=1000, help="Events per BatchRecordEvents (500-1000).")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent gRPC clients.")
    parser.add_argument("--half-duration", type=float, default=10.0, help="Seconds of the half-load phase.")
    parser.add_argument("--store-workers", type=int, default=2, help="ATHENAEUM_STORE_WORKERS of the service.")
    parser.add_argument(
        "--one-time", action="store_true", help="Every event at the same occur_time (the runs before 2026-12-02T2300)."
    )
    parser.add_argument(
        "--store-processes", type=int, default=1, help="ATHENAEUM_STORE_PROCESSES of the service (0: in the gRPC one)."
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    os.environ["ATHENAEUM_STORE_WORKERS"] = str(args.store_workers)
    os.environ["ATHENAEUM_STORE_PROCESSES"] = str(args.store_processes)
    os.environ.setdefault("ATHENAEUM_LOG_LEVEL", "WARNING")
    started, load = datetime.now(UTC), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="athenaeum-bench-") as folder:
        Path(folder).chmod(0o755)
        mesh = start_mesh(Path(folder) / "mesh")
        try:
            results = asyncio.run(run(args, mesh))
        finally:
            mesh.stop()
    text = report(results, args, started, load)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"events_ingest-{started:%Y-%m-%dT%H%M}.md"
    path.write_text(text)
    print(text)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
