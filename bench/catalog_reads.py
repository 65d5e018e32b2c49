"""Hot catalog reads on the demo library: GetBook and SearchBooks over gRPC and REST through the edge,
each as a ratio to a bare grpc.aio echo measured in the same run.

Starts the whole mesh, loads the demo catalogue through the ImportBooks stream (timed), then drives each
scenario with the load tools and helpers of bench/edge_throughput.py. `--no-cache` runs the catalog with its
GetBook cache off, so two runs show what the cache buys. Run by hand (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import grpc
from edge_throughput import (
    HEALTH_CHECK,
    INSTALL_HINT,
    NO_PROXY,
    RESULTS_DIR,
    Result,
    Scenario,
    baseline_drift,
    bearer,
    machine_info,
    results_table,
    run_scenario,
    staff_token,
    start_baseline,
    start_mesh,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

GET_BOOK = "/athenaeum.catalog.v1.CatalogService/GetBook"
SEARCH = "/athenaeum.catalog.v1.CatalogService/SearchBooks"
SEARCH_QUERY = "silent garden"
SEARCH_FACETS = ["language", "subjects"]


def load_demo(target: str, titles: int) -> tuple[float, str]:
    """Streams the demo library in; returns the seconds it took and one book's name (a classic)."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
    from services.catalog.api import demo

    rows = list(demo.rows(titles))
    messages = [
        catalog_pb2.ImportBooksRequest(header=demo.HEADER if start == 0 else "", rows=rows[start : start + 1000])
        for start in range(0, len(rows), 1000)
    ]
    metadata = bearer(staff_token(target))
    started = time.perf_counter()
    with grpc.insecure_channel(target, options=NO_PROXY) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        summary = stub.ImportBooks(iter(messages), metadata=metadata, timeout=600)
        elapsed = time.perf_counter() - started
        if summary.failed_count or summary.created_count != titles:
            raise RuntimeError(f"the demo import failed: {summary}")
        found = stub.SearchBooks(catalog_pb2.SearchBooksRequest(query="Crime and Punishment", page_size=1))
    return elapsed, found.results[0].book.name


def scenarios(mesh: object, baseline_target: str, book: str) -> list[Scenario]:
    from athenaeum.catalog.v1 import catalog_pb2

    edge, target = mesh.edge_url, mesh.edge_grpc_target  # type: ignore[attr-defined]
    get_book = catalog_pb2.GetBookRequest(name=book).SerializeToString()
    search = catalog_pb2.SearchBooksRequest(query=SEARCH_QUERY, facets=SEARCH_FACETS).SerializeToString()
    query = urlencode({"query": SEARCH_QUERY, "facets": SEARCH_FACETS}, doseq=True, quote_via=quote)
    baseline = Scenario("baseline", f"http://{baseline_target}{HEALTH_CHECK}", baseline_target, HEALTH_CHECK)
    return [
        baseline,
        Scenario("getbook-grpc", f"{edge}{GET_BOOK}", target, GET_BOOK, get_book),
        Scenario("getbook-rest", f"{edge}/v1/{book}"),
        Scenario("search-grpc", f"{edge}{SEARCH}", target, SEARCH, search),
        Scenario("search-rest", f"{edge}/v1/books:search?{query}"),
        baseline,
    ]


def write_report(results: list[Result], args: argparse.Namespace, started: datetime, load_seconds: float) -> Path:
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items())
    cache = "off (ATHENAEUM_BOOK_CACHE_SIZE=0)" if args.no_cache else "on (default)"
    text = f"""# Catalog hot reads — {started:%Y-%m-%d %H:%M} UTC

GetBook (one classic of the demo library) and SearchBooks (`{SEARCH_QUERY}`, facets {", ".join(SEARCH_FACETS)},
20 results) through the edge, over gRPC (h2load) and REST/JSON (wrk), against a bare grpc.aio Health/Check
in the same run. GetBook cache: {cache}.

## Machine
{info}

## Data
- demo library: {args.titles:,} titles (about 2.7 copies each), loaded through ImportBooks in
  {load_seconds:.1f} s ({args.titles / load_seconds:,.0f} titles/s, one transaction)

## Settings
- {args.duration} s measured per scenario after a {args.warm_up} s warm-up; {args.concurrency} connections, one
  request in flight each; {args.threads} load-tool thread(s)

## Results
{results_table(results)}

Baseline drift between its first and last run: {baseline_drift(results):.1%}.

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
    parser.add_argument("--no-cache", action="store_true", help="run the catalog with its GetBook cache off")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if missing := [tool for tool in ("h2load", "wrk") if shutil.which(tool) is None]:
        print(f"{' and '.join(missing)} not found; install the load tools: {INSTALL_HINT}", file=sys.stderr)
        return 2
    if args.no_cache:
        os.environ["ATHENAEUM_BOOK_CACHE_SIZE"] = "0"  # the launcher passes our environment to the services
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from services.support.mesh.topology import free_ports

    started = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="athenaeum-bench-"))
    workdir.chmod(0o755)  # Postgres runs as 'nobody' when the bench runs as root
    baseline_target = f"127.0.0.1:{next(free_ports())}"
    mesh = baseline = None
    try:
        mesh = start_mesh(workdir / "mesh")
        baseline = start_baseline(baseline_target)
        load_seconds, book = load_demo(mesh.edge_grpc_target, args.titles)
        print(f"demo library loaded in {load_seconds:.1f} s", flush=True)
        results = []
        for scenario in scenarios(mesh, baseline_target, book):
            print(f"running {scenario.name}", flush=True)
            results.append(run_scenario(scenario, args, workdir))
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.join(timeout=10)
        if mesh is not None:
            mesh.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"{results_table(results)}\nbaseline drift: {baseline_drift(results):.1%}")
    print(f"report: {write_report(results, args, started, load_seconds).relative_to(REPO_ROOT)}")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
