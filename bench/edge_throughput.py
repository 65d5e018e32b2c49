"""GetBook throughput through the edge (REST/JSON and gRPC) against two baselines of the same run: a bare
grpc.aio echo, and a one-process FastAPI + asyncpg service reading the same book rows from the same Postgres.

Starts the whole mesh on free loopback ports in a temporary folder, loads the demo library (10,000 titles by
default) and drives every scenario with the same concurrency: h2load for gRPC (a pre-framed body), wrk for
HTTP (random book ids of the demo library, or one book). Machines are noisy, so the figures that matter are
the ratios to the baselines of the same run; each baseline runs first and last, and the report shows how far
it drifted. Beside each figure: CPU per request per process, SQL statements and RPCs per request.
Run by hand (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from baselines import HEALTH_CHECK, start_fastapi, stop_fastapi
from costs import Meter, costs_table, detail
from loadtools import (
    INSTALL_HINT,
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

if TYPE_CHECKING:
    from services.support.launcher.mesh import LocalMesh

REPO_ROOT = Path(__file__).resolve().parents[1]
GET_BOOK = "/athenaeum.catalog.v1.CatalogService/GetBook"
FASTAPI = "fastapi"


def start_fastapi_baseline(mesh: LocalMesh, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The FastAPI + asyncpg GetBook on a free port, reading the catalog database; (process, base URL)."""
    from services.support.launcher.postgres import asyncpg_dsn
    from services.support.mesh.topology import free_ports

    port = next(free_ports())
    process = start_fastapi(port, asyncpg_dsn(mesh.database_url("catalog")), workdir / "fastapi.log")
    return process, f"http://127.0.0.1:{port}"


def scenarios(mesh: LocalMesh, echo: str, fastapi: str, book: str, paths: Path) -> list[Scenario]:
    """Both baselines first and last (their drift is the run's noise); GetBook by random id over REST (as
    FastAPI's), one book over gRPC and REST through the edge. (Straight to catalog is gone: a service listens
    only on its Unix socket since issue 14, which h2load cannot reach.)"""
    from athenaeum.catalog.v1 import catalog_pb2

    get_book = catalog_pb2.GetBookRequest(name=book).SerializeToString()
    baseline = Scenario("baseline", f"http://{echo}{HEALTH_CHECK}", echo, HEALTH_CHECK)
    fastapi_random = Scenario(FASTAPI, fastapi, paths_file=paths)
    return [
        baseline,
        fastapi_random,
        Scenario("edge-rest-random", mesh.edge_url, paths_file=paths),
        Scenario("edge-grpc", f"{mesh.edge_url}{GET_BOOK}", mesh.edge_grpc_target, GET_BOOK, get_book),
        Scenario("edge-rest", f"{mesh.edge_url}/v1/{book}"),
        fastapi_random,
        baseline,
    ]


def _portable(command: list[str]) -> str:
    """The command as the report shows it: this machine's folders named for what they are."""
    shown = [
        "bench/random_paths.lua" if part.endswith("/bench/random_paths.lua")
        else "<work dir>/" + Path(part).name if part.startswith(tempfile.gettempdir()) else part
        for part in command
    ]  # fmt: skip
    return shlex.join(shown)


def write_report(results: list[Result], args: argparse.Namespace, started: datetime, load: list[float],
                 rss: dict[str, float]) -> Path:  # fmt: skip
    """bench/results/edge_throughput-<UTC date and time>.md: machine, settings, tables, commands."""
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items())
    commands = "\n".join(dict.fromkeys(f"# {r.scenario.name}\n{_portable(r.command)}" for r in results))
    per_request = per_scenario_costs(results)
    text = f"""# Edge throughput — {started:%Y-%m-%d %H:%M} UTC

GetBook through the edge (REST/JSON with wrk, gRPC with h2load) and straight to the catalog service, against
a bare grpc.aio server answering grpc.health.v1 Health/Check (no interceptors, no database) and a one-process
FastAPI + asyncpg GetBook (uvicorn, uvloop, httptools) on the same Postgres, all in one run. `-random`
scenarios and FastAPI ask for a random book of the demo library ({args.titles:,} titles) on every request.
Load tool, Envoys, services and Postgres share the machine.

## Machine
{info}
- load average before the run (1/5/15 min): {" / ".join(f"{n:.2f}" for n in load)}

## Settings
- {args.duration} s measured per scenario, after a {args.warm_up} s warm-up run (discarded)
- {args.concurrency} connections with one request in flight on each; {args.threads} load-tool thread(s)

## Results
{results_table(results, reference=FASTAPI)}

Drift between first and last run: echo {drift(results):.1%}, FastAPI {drift(results, FASTAPI):.1%}.

## Cost per request (measured runs)
{costs_table(per_request, unit="req")}

{detail(per_request, unit="req", top=4)}

RSS of each service after the run (MiB): {", ".join(f"{k} {v:.0f}" for k, v in sorted(rss.items()))}

## Commands
`<scenario>.grpc-body` is one gRPC frame (flag byte, 4-byte length) around the serialized request: an empty
`HealthCheckRequest`, or `GetBookRequest(name=<the book>)`. Before and after each run, one real gRPC call
with the same body must end with grpc-status 0 (h2load counts gRPC errors as successes).

```
{shlex.join(["python", "bench/edge_throughput.py", *sys.argv[1:]])}
{commands}
```
"""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"edge_throughput-{started:%Y-%m-%dT%H%M}.md"
    path.write_text(text)
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario (default 10)")
    parser.add_argument("--warm-up", type=int, default=3, help="seconds of discarded load before each (default 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections, one request each (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="load-tool threads (default 1)")
    parser.add_argument("--titles", type=int, default=10_000, help="demo library size (default 10,000)")
    return parser.parse_args()


def run(args: argparse.Namespace, workdir: Path) -> tuple[list[Result], dict[str, float]]:
    """Start the mesh and the baselines, run every scenario, stop everything (also on failure)."""
    with mesh_beside_echo(workdir / "mesh") as (mesh, echo_target, echo):
        load_seconds, book = load_demo(mesh.edge_grpc_target, args.titles)
        print(f"demo library loaded in {load_seconds:.1f} s", flush=True)
        paths = workdir / "book-paths.txt"
        write_book_paths(mesh, paths)
        fastapi, fastapi_url = start_fastapi_baseline(mesh, workdir)
        try:
            meter = Meter(mesh, {"echo": lambda: echo.pid, FASTAPI: lambda: fastapi.pid})  # type: ignore[union-attr]
            print(f"mesh idle after {meter.settle():.0f} s", flush=True)
            results = []
            for scenario in scenarios(mesh, echo_target, fastapi_url, book, paths):
                print(f"running {scenario.name}: {args.warm_up} s warm-up, {args.duration} s measured", flush=True)
                results.append(run_scenario(scenario, args, workdir, meter))
            return results, meter.rss()
        finally:
            stop_fastapi(fastapi)


def check_tools() -> bool:
    if missing := [tool for tool in ("h2load", "wrk") if shutil.which(tool) is None]:
        print(f"{' and '.join(missing)} not found; install the load tools: {INSTALL_HINT}", file=sys.stderr)
        return False
    return True


def main() -> int:
    args = parse_args()
    if not check_tools():
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the mesh on a kill too
    started, load_before = datetime.now(UTC), list(os.getloadavg())
    workdir = work_folder()
    try:
        results, rss = run(args, workdir)
    except BaseException:
        print(f"bench failed; logs kept in {workdir / 'mesh' / 'logs'}", file=sys.stderr)
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"{results_table(results, reference=FASTAPI)}\necho drift: {drift(results):.1%}")
    print(f"report: {shown(write_report(results, args, started, load_before, rss))}")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
