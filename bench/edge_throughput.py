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
import asyncio
import contextlib
import dataclasses
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from baselines import HEALTH_CHECK, start_baseline, start_fastapi, stop_baseline, stop_fastapi
from costs import Meter, costs_table, detail
from loadtools import (
    INSTALL_HINT,
    NO_PROXY,
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

if TYPE_CHECKING:
    from services.support.launcher.mesh import LocalMesh

REPO_ROOT = Path(__file__).resolve().parents[1]
GET_BOOK = "/athenaeum.catalog.v1.CatalogService/GetBook"
FASTAPI = "fastapi"


def start_mesh(data_dir: Path) -> LocalMesh:
    """The whole mesh on free loopback ports, with its own Postgres and NATS under `data_dir`."""
    from services.support.launcher.layout import local_mesh_topology
    from services.support.launcher.mesh import LocalMesh
    from services.support.mesh.topology import free_ports

    ports = free_ports()
    topology = local_mesh_topology(data_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    # One load generator on one address: the edge's per-client rate limits would measure themselves.
    topology = dataclasses.replace(topology, rate_limits=None)
    mesh = LocalMesh(data_dir, topology, progress=lambda step: print(f"  mesh: {step}", flush=True))
    mesh.start()  # a failed start has already stopped what it started
    return mesh


@contextlib.contextmanager
def mesh_beside_echo(data_dir: Path) -> Iterator[tuple[LocalMesh, str, BaseProcess]]:
    """The mesh (`start_mesh`) and the bare echo baseline on a free port beside it: the mesh, the echo's target
    and its process; both stopped on the way out, also when the echo fails to start."""
    from services.support.mesh.topology import free_ports

    echo_target = f"127.0.0.1:{next(free_ports())}"
    mesh, echo = start_mesh(data_dir), None
    try:
        echo = start_baseline(echo_target)
        yield mesh, echo_target, echo
    finally:
        stop_baseline(echo)
        mesh.stop()


def staff_token(edge_grpc_target: str) -> str:
    """The dev bootstrap admin's access token, once the edge accepts it (it fetches the JWKS as it starts)."""
    from athenaeum.users.v1 import users_pb2, users_pb2_grpc
    from services.users.settings import DEV_ADMIN_PASSWORD, UsersSettings

    login = users_pb2.LoginRequest(email=UsersSettings().bootstrap_admin_email, password=DEV_ADMIN_PASSWORD)
    me = users_pb2.GetUserRequest(name="users/me")
    deadline = time.monotonic() + 30
    with grpc.insecure_channel(edge_grpc_target, options=NO_PROXY) as channel:
        token = users_pb2_grpc.AuthServiceStub(channel).Login(login, timeout=10).tokens.access_token
        while True:
            try:
                users_pb2_grpc.UsersServiceStub(channel).GetUser(me, metadata=bearer(token), timeout=10)
                return str(token)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAUTHENTICATED or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def create_book(edge_grpc_target: str) -> str:
    """One book created by the bootstrap admin; returns its resource name."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

    token = staff_token(edge_grpc_target)
    with grpc.insecure_channel(edge_grpc_target, options=NO_PROXY) as channel:
        book = catalog_pb2.Book(title="Dead Souls", authors=["Nikolai Gogol"], language="ru")
        request = catalog_pb2.CreateBookRequest(book=book)
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        return str(stub.CreateBook(request, metadata=bearer(token), timeout=10).name)


def load_demo(target: str, titles: int) -> tuple[float, str]:
    """Streams the demo library in; returns the seconds it took and one book's name (a classic)."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
    from services.catalog.api import demo

    rows = list(demo.rows(titles))
    metadata = bearer(staff_token(target))
    started = time.perf_counter()
    with grpc.insecure_channel(target, options=NO_PROXY) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        for part in range(0, len(rows), demo.TITLES_PER_IMPORT):
            part_rows = rows[part : part + demo.TITLES_PER_IMPORT]
            messages = [
                catalog_pb2.ImportBooksRequest(
                    header=demo.HEADER if start == 0 else "", rows=part_rows[start : start + 1000]
                )
                for start in range(0, len(part_rows), 1000)
            ]
            summary = stub.ImportBooks(iter(messages), metadata=metadata, timeout=600)
            if summary.failed_count or summary.created_count != len(part_rows):
                raise RuntimeError(f"the demo import failed: {summary}")
        elapsed = time.perf_counter() - started
        found = stub.SearchBooks(catalog_pb2.SearchBooksRequest(query="Crime and Punishment", page_size=1))
    return elapsed, found.results[0].book.name


def write_book_paths(mesh: LocalMesh, path: Path) -> int:
    """Every book's REST path (/v1/books/<id>), one a line, for wrk's random choice; returns how many."""
    import asyncpg

    from services.support.launcher.postgres import asyncpg_dsn

    async def ids() -> list[str]:
        connection = await asyncpg.connect(asyncpg_dsn(mesh.database_url("catalog")))
        try:
            return [str(r["id"]) for r in await connection.fetch("SELECT id FROM books ORDER BY id")]
        finally:
            await connection.close()

    found = asyncio.run(ids())
    path.write_text("".join(f"/v1/books/{i}\n" for i in found))
    return len(found)


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
