"""Hot catalog reads on the demo library: GetBook and SearchBooks over gRPC and REST through the edge,
each as a ratio to a bare grpc.aio echo and a FastAPI + asyncpg GetBook measured in the same run.

Starts the whole mesh, loads the demo catalogue through the ImportBooks stream (timed), then drives each
scenario with the load tools and helpers of bench/edge_throughput.py and bench/mesh_setup.py. `--no-cache` runs
the catalog with its GetBook and SearchBooks caches off, so two runs show what the caches buy. Run by hand (see
bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from baselines import HEALTH_CHECK, stop_fastapi
from circulation_load import Circulated, Circulation
from costs import Meter, costs_table, detail
from edge_throughput import FASTAPI, check_tools, start_fastapi_baseline
from loadtools import (
    RESULTS_DIR,
    Result,
    Scenario,
    drift,
    machine_info,
    per_scenario_costs,
    results_table,
    run_scenario,
    shown,
    work_folder,
)
from mesh_setup import load_demo, mesh_beside_echo, write_book_paths

REPO_ROOT = Path(__file__).resolve().parents[1]

GET_BOOK = "/athenaeum.catalog.v1.CatalogService/GetBook"
SEARCH = "/athenaeum.catalog.v1.CatalogService/SearchBooks"
SEARCH_QUERY = "silent garden"
SEARCH_FACETS = ["language", "subjects"]
CIRCULATING = "search-grpc-circulating"
"""SearchBooks over gRPC again, while copies of random demo books are checked out and in (circulation_load.py)."""


UNLOADED_SEARCHES: dict[str, dict[str, object]] = {
    "silent garden + 2 facets": {"query": SEARCH_QUERY, "facets": SEARCH_FACETS},
    "garden": {"query": "garden"},
    "typo: silnet gardn": {"query": "silnet gardn"},
    "Crime and Punishment": {"query": "Crime and Punishment"},
    "filter only: language ru + facets": {"filters": {"language": "ru"}, "facets": ["subjects", "authors"]},
}


def scenarios(mesh: object, echo: str, fastapi: str, book: str, paths: Path) -> list[Scenario]:
    from athenaeum.catalog.v1 import catalog_pb2

    edge, target = mesh.edge_url, mesh.edge_grpc_target  # type: ignore[attr-defined]
    get_book = catalog_pb2.GetBookRequest(name=book).SerializeToString()
    search = catalog_pb2.SearchBooksRequest(query=SEARCH_QUERY, facets=SEARCH_FACETS).SerializeToString()
    query = urlencode({"query": SEARCH_QUERY, "facets": SEARCH_FACETS}, doseq=True, quote_via=quote)
    baseline = Scenario("baseline", f"http://{echo}{HEALTH_CHECK}", echo, HEALTH_CHECK)
    fastapi_random = Scenario(FASTAPI, fastapi, paths_file=paths)
    return [
        baseline,
        fastapi_random,
        Scenario("getbook-rest-random", edge, paths_file=paths),
        Scenario("getbook-grpc", f"{edge}{GET_BOOK}", target, GET_BOOK, get_book),
        Scenario("getbook-rest", f"{edge}/v1/{book}"),
        Scenario("search-grpc", f"{edge}{SEARCH}", target, SEARCH, search),
        Scenario("search-rest", f"{edge}/v1/books:search?{query}", expect='"results"'),
        Scenario(CIRCULATING, f"{edge}{SEARCH}", target, SEARCH, search),
        fastapi_random,
        baseline,
    ]


def unloaded_searches(target: str, repeats: int) -> dict[str, tuple[float, float, int]]:
    """One search at a time through the edge (gRPC): p50 and p99 ms, and total matches, per query."""
    import statistics

    import grpc
    from google.protobuf import json_format

    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

    found = {}
    with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        for label, fields in UNLOADED_SEARCHES.items():
            request = json_format.ParseDict(fields, catalog_pb2.SearchBooksRequest())
            total = stub.SearchBooks(request, timeout=10).total_size  # warm: plans, caches, connections
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                stub.SearchBooks(request, timeout=10)
                timings.append((time.perf_counter() - started) * 1000)
            cuts = statistics.quantiles(timings, n=100)
            found[label] = (cuts[49], cuts[98], total)
    return found


def write_report(results: list[Result], args: argparse.Namespace, started: datetime, load_seconds: float,
                 unloaded: dict[str, tuple[float, float, int]], rss: dict[str, float],
                 circulated: Circulated) -> Path:  # fmt: skip
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items())
    cache = "off (ATHENAEUM_BOOK_CACHE_SIZE=0, ATHENAEUM_SEARCH_CACHE_BYTES=0)" if args.no_cache else "on (default)"
    per_request = per_scenario_costs(results)
    searches = "\n".join(f"| {label} | {p50:.1f} | {p99:.1f} | {n:,} |" for label, (p50, p99, n) in unloaded.items())
    text = f"""# Catalog hot reads — {started:%Y-%m-%d %H:%M} UTC

GetBook (random books of the demo library, or one classic) and SearchBooks (`{SEARCH_QUERY}`, facets
{", ".join(SEARCH_FACETS)}, 20 results) through the edge, over gRPC (h2load) and REST/JSON (wrk), against a bare
grpc.aio Health/Check and a one-process FastAPI + asyncpg GetBook (random books) in the same run.
GetBook and SearchBooks caches: {cache}; with them on, every search below after the first is a hit.

## Machine
{info}

## Data
- demo library: {args.titles:,} titles (about 2.7 copies each), loaded through ImportBooks in
  {load_seconds:.1f} s ({args.titles / load_seconds:,.0f} titles/s, one transaction)

## Settings
- {args.duration} s measured per scenario after a {args.warm_up} s warm-up; {args.concurrency} connections, one
  request in flight each; {args.threads} load-tool thread(s)

## Results
{results_table(results, reference=FASTAPI)}

Drift between first and last run: echo {drift(results):.1%}, FastAPI {drift(results, FASTAPI):.1%}.

## SearchBooks unloaded (one call at a time through the edge, gRPC, {args.repeats} calls each)
| search | p50 ms | p99 ms | matches |
|---|---:|---:|---:|
{searches}

## SearchBooks while copies circulate (`{CIRCULATING}`, its warm-up included)
{circulated.line()}. Each check-out and check-in drops the cached answers that show its book; the scenario's
costs below include the circulation's.

## Cost per request (measured runs)
{costs_table(per_request, unit="req")}

{detail(per_request, unit="req", top=8)}

RSS of each service after the run (MiB): {", ".join(f"{k} {v:.0f}" for k, v in sorted(rss.items()))}

```
{" ".join(["python", "bench/catalog_reads.py", *sys.argv[1:]])}
```
"""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "-nocache" if args.no_cache else ""
    path = RESULTS_DIR / f"catalog_reads-{started:%Y-%m-%dT%H%M}{suffix}.md"
    path.write_text(text)
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--titles", type=int, default=10_000, help="demo library size (default 10,000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario (default 10)")
    parser.add_argument("--warm-up", type=int, default=3, help="seconds of discarded load before each (default 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections, one request each (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="load-tool threads (default 1)")
    parser.add_argument("--repeats", type=int, default=50, help="unloaded calls per search (default 50)")
    parser.add_argument("--no-cache", action="store_true", help="run the catalog with its read caches off")
    parser.add_argument(
        "--circulation-rate", type=float, default=25.0, help=f"check-out + check-in pairs/s during {CIRCULATING}"
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not check_tools():
        return 2
    if args.no_cache:
        os.environ["ATHENAEUM_BOOK_CACHE_SIZE"] = "0"  # the launcher passes our environment to the services
        os.environ["ATHENAEUM_SEARCH_CACHE_BYTES"] = "0"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
    workdir = work_folder()
    with mesh_beside_echo(workdir / "mesh") as (mesh, echo_target, echo):
        load_seconds, book = load_demo(mesh.edge_grpc_target, args.titles)
        print(f"demo library loaded in {load_seconds:.1f} s", flush=True)
        paths = workdir / "book-paths.txt"
        write_book_paths(mesh, paths)
        fastapi, fastapi_url = start_fastapi_baseline(mesh, workdir)
        try:
            meter = Meter(mesh, {"echo": lambda: echo.pid, FASTAPI: lambda: fastapi.pid})  # type: ignore[union-attr]
            print(f"mesh idle after {meter.settle():.0f} s", flush=True)
            print("unloaded searches", flush=True)
            unloaded = unloaded_searches(mesh.edge_grpc_target, args.repeats)
            results, circulated = [], Circulated()
            books = [line.removeprefix("/v1/") for line in paths.read_text().split()]
            for scenario in scenarios(mesh, echo_target, fastapi_url, book, paths):
                print(f"running {scenario.name}", flush=True)
                circulating = scenario.name == CIRCULATING
                with Circulation(mesh, books, args.circulation_rate) if circulating else nullcontext() as moving:
                    results.append(run_scenario(scenario, args, workdir, meter))
                if moving is not None:
                    circulated = moving.done
            rss = meter.rss()
        finally:
            stop_fastapi(fastapi)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"{results_table(results, reference=FASTAPI)}\necho drift: {drift(results):.1%}")
    report = write_report(results, args, started, load_seconds, unloaded, rss, circulated)
    print(f"report: {shown(report)}")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
