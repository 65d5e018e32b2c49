"""GetBook throughput through the edge (REST/JSON and gRPC) against a bare grpc.aio baseline, in one run.

Starts the whole mesh on free loopback ports in a temporary folder, creates one book and drives every
scenario with the same concurrency: h2load for gRPC (a pre-framed body), wrk for REST. Machines are noisy,
so the figures that matter are the ratios to the baseline of the same run; the baseline runs first and
last, and the report shows how far it drifted. Run by hand (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from services.support.launcher.readiness import grpc_health_status, http_body, wait_until

if TYPE_CHECKING:
    from services.support.launcher.mesh import LocalMesh

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
INSTALL_HINT = "apt-get update && apt-get install -y nghttp2-client wrk"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
GET_BOOK = "/athenaeum.catalog.v1.CatalogService/GetBook"
NO_PROXY = [("grpc.enable_http_proxy", 0)]  # loopback targets only, whatever http_proxy says


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    grpc_target: str | None = None
    """host:port of a gRPC scenario (driven by h2load); None for REST (driven by wrk)."""
    grpc_method: str = ""
    payload: bytes = b""
    """The serialized request message (unframed) of a gRPC scenario."""


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    completed: int
    failed: int
    command: list[str]


def serve_baseline(port: int) -> None:
    """A bare grpc.aio server (no interceptors, no database) answering grpc.health.v1 Health/Check."""

    async def serve() -> None:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)  # type: ignore[attr-defined]
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(serve())


def start_baseline(target: str) -> BaseProcess:
    """The baseline server in a process of its own, as each service runs in its own."""
    port = int(target.rsplit(":", 1)[1])
    process = multiprocessing.get_context("spawn").Process(target=serve_baseline, args=(port,), daemon=True)
    process.start()

    def check_alive() -> None:
        if not process.is_alive():
            raise RuntimeError(f"the baseline server exited with {process.exitcode}")

    wait_until(lambda: grpc_health_status(target) == "SERVING", timeout=30, what="baseline", check_alive=check_alive)
    return process


def start_mesh(data_dir: Path) -> LocalMesh:
    """The whole mesh on free loopback ports, with its own Postgres and NATS under `data_dir`."""
    from services.support.launcher.mesh import LocalMesh, local_mesh_topology
    from services.support.mesh.topology import free_ports

    ports = free_ports()
    topology = local_mesh_topology(data_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    # One load generator on one address: the edge's per-client rate limits would measure themselves.
    topology = dataclasses.replace(topology, rate_limits=None)
    mesh = LocalMesh(data_dir, topology, progress=lambda step: print(f"  mesh: {step}", flush=True))
    mesh.start()  # a failed start has already stopped what it started
    return mesh


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
    """The one book every GetBook asks for (created by the bootstrap admin); returns its resource name."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

    token = staff_token(edge_grpc_target)
    with grpc.insecure_channel(edge_grpc_target, options=NO_PROXY) as channel:
        book = catalog_pb2.Book(title="Dead Souls", authors=["Nikolai Gogol"], language="ru")
        request = catalog_pb2.CreateBookRequest(book=book)
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        return str(stub.CreateBook(request, metadata=bearer(token), timeout=10).name)


def scenarios(mesh: LocalMesh, baseline_target: str, book: str) -> list[Scenario]:
    """Baseline first and last (its drift is the run's noise); GetBook via the edge and straight to catalog."""
    from athenaeum.catalog.v1 import catalog_pb2

    get_book = catalog_pb2.GetBookRequest(name=book).SerializeToString()
    baseline = Scenario("baseline", f"http://{baseline_target}{HEALTH_CHECK}", baseline_target, HEALTH_CHECK)
    catalog = mesh.app_target("catalog")
    return [
        baseline,
        Scenario("edge-grpc", f"{mesh.edge_url}{GET_BOOK}", mesh.edge_grpc_target, GET_BOOK, get_book),
        Scenario("edge-rest", f"{mesh.edge_url}/v1/{book}"),
        Scenario("catalog-direct", f"http://{catalog}{GET_BOOK}", catalog, GET_BOOK, get_book),
        baseline,
    ]


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, the bytes."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def verify(scenario: Scenario) -> None:
    """One real call with the exact request the load tool sends; raises unless it succeeds (grpc-status 0)."""
    if scenario.grpc_target is None:
        if '"name"' not in (http_body(scenario.url, timeout=5) or ""):
            raise RuntimeError(f"GET {scenario.url} did not return a book")
        return
    with grpc.insecure_channel(scenario.grpc_target, options=NO_PROXY) as channel:
        call = channel.unary_unary(scenario.grpc_method, request_serializer=None, response_deserializer=None)
        call(scenario.payload, timeout=5)  # raw bytes both ways; raises grpc.RpcError on any non-OK status


def load_command(scenario: Scenario, args: argparse.Namespace, duration: int) -> list[str]:
    """wrk (REST) or h2load (gRPC), both with `concurrency` connections and one request in flight on each."""
    shared = ["-c", str(args.concurrency), "-t", str(args.threads)]
    if scenario.grpc_target is None:
        return ["wrk", *shared, "-d", f"{duration}s", "--latency", scenario.url]
    # The body and log files live in the tool's working folder, so the recorded command is the exact one.
    files = ["-d", f"{scenario.name}.grpc-body", "--log-file", f"{scenario.name}.log"]
    grpc_headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    return ["h2load", *shared, "-m", "1", "-D", str(duration), *files, *grpc_headers, scenario.url]


def run_tool(command: list[str], workdir: Path) -> str:
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def run_scenario(scenario: Scenario, args: argparse.Namespace, workdir: Path) -> Result:
    """Verify, warm up (discarded), measure for the fixed duration, verify again."""
    (workdir / f"{scenario.name}.grpc-body").write_bytes(grpc_frame(scenario.payload))
    verify(scenario)
    run_tool(load_command(scenario, args, args.warm_up), workdir)
    (workdir / f"{scenario.name}.log").unlink(missing_ok=True)  # h2load appends; keep only the measured run
    command = load_command(scenario, args, args.duration)
    output = run_tool(command, workdir)
    verify(scenario)  # the server still answers correctly after the load
    if scenario.grpc_target is None:
        return parse_wrk(scenario, command, output)
    return parse_h2load(scenario, command, output, workdir / f"{scenario.name}.log")


def search(pattern: str, text: str) -> re.Match[str]:
    if match := re.search(pattern, text, re.M):
        return match
    raise RuntimeError(f"no /{pattern}/ in the load tool's output:\n{text}")


def parse_h2load(scenario: Scenario, command: list[str], output: str, log_file: Path) -> Result:
    """req/s and failures from h2load's summary; p50/p99 from its per-request log (µs in the third column)."""
    rate = float(search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output).group(1))
    counts = search(r"(\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", output).groups()
    statuses = search(r"status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output).groups()
    failed = sum(int(n) for n in (*counts[1:], *statuses))
    cuts = statistics.quantiles([int(line.split("\t")[2]) for line in log_file.read_text().splitlines()], n=100)
    return Result(scenario, rate, cuts[49] / 1000, cuts[98] / 1000, int(counts[0]), failed, command)


def parse_wrk(scenario: Scenario, command: list[str], output: str) -> Result:
    """req/s, the 50% and 99% of wrk's latency distribution, non-2xx responses and socket errors."""

    def latency_ms(percent: str) -> float:
        value, unit = search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = sum(int(n) for match in (non_2xx, socket_errors) if match for n in match.groups())
    completed = int(search(r"(\d+) requests in", output).group(1))
    rate = float(search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return Result(scenario, rate, latency_ms("50"), latency_ms("99"), completed, failed, command)


def first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "unknown"
    return ((done.stdout or done.stderr).strip().splitlines() or ["unknown"])[0]


def machine_info() -> dict[str, str]:
    """What the figures depend on: cores, CPU, kernel and the versions of the moving parts."""
    from services.support.launcher.components import envoy_binary

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    envoy = re.search(r"version: (\S+)", first_line([str(envoy_binary()), "--version"]))
    return {
        "nproc": str(os.cpu_count()),
        "CPU model": model.group(1) if model else platform.processor() or "unknown",
        "kernel": platform.platform(),
        "Python / grpcio": f"{platform.python_version()} / {grpc.__version__}",
        "Envoy": envoy.group(1) if envoy else "unknown",
        "load tools": f"{first_line(['h2load', '--version'])}; {first_line(['wrk', '-v']).split(' [')[0]}",
        "git commit": first_line(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"]),
    }


def baseline_rates(results: list[Result]) -> list[float]:
    return [r.requests_per_second for r in results if r.scenario.name == "baseline"]


def results_table(results: list[Result]) -> str:
    """Markdown: req/s and its ratio to the mean of the baseline runs, p50/p99 latency, failures."""
    baseline = statistics.mean(baseline_rates(results))
    rows = [
        "| scenario | req/s | ratio to baseline | p50 ms | p99 ms | requests | failed |",
        "|---" + "|---:" * 6 + "|",
    ]
    rows += [
        f"| {r.scenario.name} | {r.requests_per_second:,.0f} | {r.requests_per_second / baseline:.3f} "
        f"| {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.completed:,} | {r.failed} |"
        for r in results
    ]
    return "\n".join(rows)


def baseline_drift(results: list[Result]) -> float:
    """How far the baseline moved between its first and last run, relative to their mean."""
    rates = baseline_rates(results)
    return abs(rates[0] - rates[-1]) / statistics.mean(rates)


def write_report(results: list[Result], args: argparse.Namespace, started: datetime, load: list[float]) -> Path:
    """bench/results/edge_throughput-<UTC date and time>.md: machine, settings, table, commands."""
    info = "\n".join(f"- {key}: {value}" for key, value in machine_info().items())
    commands = "\n".join(dict.fromkeys(f"# {r.scenario.name}\n{shlex.join(r.command)}" for r in results))
    text = f"""# Edge throughput — {started:%Y-%m-%d %H:%M} UTC

GetBook through the edge (REST/JSON with wrk, gRPC with h2load) and straight to the catalog service, against
a bare grpc.aio server answering grpc.health.v1 Health/Check (no interceptors, no database), all in one run.
Ratios are to the mean of the two baseline runs. Load tool, Envoys, services and Postgres share the machine.

## Machine
{info}
- load average before the run (1/5/15 min): {" / ".join(f"{n:.2f}" for n in load)}

## Settings
- {args.duration} s measured per scenario, after a {args.warm_up} s warm-up run (discarded)
- {args.concurrency} connections with one request in flight on each; {args.threads} load-tool thread(s)

## Results
{results_table(results)}

Baseline drift between its first and last run: {baseline_drift(results):.1%}.

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
    return parser.parse_args()


def run(args: argparse.Namespace, workdir: Path) -> list[Result]:
    """Start the mesh and the baseline, run every scenario, stop everything (also on failure)."""
    from services.support.mesh.topology import free_ports

    baseline_target = f"127.0.0.1:{next(free_ports())}"
    baseline: BaseProcess | None = None
    mesh: LocalMesh | None = None
    try:
        mesh = start_mesh(workdir / "mesh")
        baseline = start_baseline(baseline_target)
        book = create_book(mesh.edge_grpc_target)
        results = []
        for scenario in scenarios(mesh, baseline_target, book):
            print(f"running {scenario.name}: {args.warm_up} s warm-up, {args.duration} s measured", flush=True)
            results.append(run_scenario(scenario, args, workdir))
        return results
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.join(timeout=10)
        if mesh is not None:
            mesh.stop()


def main() -> int:
    args = parse_args()
    if missing := [tool for tool in ("h2load", "wrk") if shutil.which(tool) is None]:
        print(f"{' and '.join(missing)} not found; install the load tools: {INSTALL_HINT}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the mesh on a kill too
    started, load_before = datetime.now(UTC), list(os.getloadavg())
    workdir = Path(tempfile.mkdtemp(prefix="athenaeum-bench-"))
    workdir.chmod(0o755)  # Postgres runs as 'nobody' when the bench runs as root
    try:
        results = run(args, workdir)
    except BaseException:
        print(f"bench failed; logs kept in {workdir / 'mesh' / 'logs'}", file=sys.stderr)
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"{results_table(results)}\nbaseline drift: {baseline_drift(results):.1%}")
    print(f"report: {write_report(results, args, started, load_before).relative_to(REPO_ROOT)}")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
