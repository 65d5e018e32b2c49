"""Driving a scenario with the load tools (wrk for HTTP, h2load for gRPC) and reading their figures.

Every scenario is verified with one real call before and after its load (h2load counts gRPC errors as
successes), warmed up (discarded), then measured for a fixed duration; a `Meter` given to `run_scenario`
adds what each request cost (CPU per process, SQL statements, RPCs) over the measured run.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc
from costs import Costs, Meter, costs

from services.support.launcher.components import REPO_ROOT as SERVICES_ROOT
from services.support.launcher.readiness import http_body

REPO_ROOT = Path(__file__).resolve().parents[1]
# Where reports go: bench/results, or elsewhere for a run whose report is not a measurement (the smoke tests').
RESULTS_DIR = Path(os.environ.get("ATHENAEUM_BENCH_RESULTS") or REPO_ROOT / "bench" / "results")


def shown(path: Path) -> Path:
    """A report's path as printed: from the repository's root when it is in the repository."""
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def services_commit() -> str:
    """The commit of the code the mesh runs: the checkout `services` was imported from, which is this script's
    only when it is on PYTHONPATH (the editable install points at one checkout; bench/README.md)."""
    commit = first_line(["git", "-C", str(SERVICES_ROOT), "rev-parse", "--short", "HEAD"])
    if SERVICES_ROOT.resolve() == REPO_ROOT:
        return commit
    return f"{commit} (the services of {SERVICES_ROOT}, not of this script's checkout {REPO_ROOT})"


def work_folder(prefix: str = "athenaeum-bench-") -> Path:
    """A fresh temporary folder for a bench's stores and logs, readable by all: Postgres runs as 'nobody' when
    the bench runs as root."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


INSTALL_HINT = "apt-get update && apt-get install -y nghttp2-client wrk"
NO_PROXY = [("grpc.enable_http_proxy", 0)]  # loopback targets only, whatever http_proxy says
RANDOM_PATHS_SCRIPT = Path(__file__).resolve().parent / "random_paths.lua"


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    grpc_target: str | None = None
    """host:port of a gRPC scenario (driven by h2load); None for HTTP (driven by wrk)."""
    grpc_method: str = ""
    payload: bytes = b""
    """The serialized request message (unframed) of a gRPC scenario."""
    paths_file: Path | None = None
    """HTTP only: wrk asks for a random path of this file (one a line) on every request, not `url`'s."""
    expect: str = '"name"'
    """HTTP only: what the verifying GET's body must hold."""


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    completed: int
    failed: int
    command: list[str]
    costs: Costs | None = None


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, the bytes."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def verify(scenario: Scenario) -> None:
    """One real call with the exact request the load tool sends; raises unless it succeeds (grpc-status 0)."""
    if scenario.grpc_target is None:
        url = scenario.url
        if scenario.paths_file is not None:
            url = url.rstrip("/") + scenario.paths_file.read_text().split("\n", 1)[0]
        if scenario.expect not in (http_body(url, timeout=5) or ""):
            raise RuntimeError(f"GET {url} did not answer as expected")
        return
    with grpc.insecure_channel(scenario.grpc_target, options=NO_PROXY) as channel:
        call = channel.unary_unary(scenario.grpc_method, request_serializer=None, response_deserializer=None)
        call(scenario.payload, timeout=5)  # raw bytes both ways; raises grpc.RpcError on any non-OK status


def load_command(scenario: Scenario, args: argparse.Namespace, duration: int) -> list[str]:
    """wrk (HTTP) or h2load (gRPC), both with `concurrency` connections and one request in flight on each."""
    shared = ["-c", str(args.concurrency), "-t", str(args.threads)]
    if scenario.grpc_target is None:
        command = ["wrk", *shared, "-d", f"{duration}s", "--latency", scenario.url]
        if scenario.paths_file is not None:
            command[-1:-1] = ["-s", str(RANDOM_PATHS_SCRIPT)]
            command += ["--", str(scenario.paths_file)]
        return command
    # The body and log files live in the tool's working folder, so the recorded command is the exact one.
    files = ["-d", f"{scenario.name}.grpc-body", "--log-file", f"{scenario.name}.log"]
    grpc_headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    return ["h2load", *shared, "-m", "1", "-D", str(duration), *files, *grpc_headers, scenario.url]


def run_tool(command: list[str], workdir: Path) -> str:
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def run_scenario(scenario: Scenario, args: argparse.Namespace, workdir: Path, meter: Meter | None = None) -> Result:
    """Verify, warm up (discarded), measure for the fixed duration (metered), verify again."""
    (workdir / f"{scenario.name}.grpc-body").write_bytes(grpc_frame(scenario.payload))
    verify(scenario)
    run_tool(load_command(scenario, args, args.warm_up), workdir)
    (workdir / f"{scenario.name}.log").unlink(missing_ok=True)  # h2load appends; keep only the measured run
    command = load_command(scenario, args, args.duration)
    before = meter.snapshot() if meter else None
    output = run_tool(command, workdir)
    after = meter.snapshot() if meter else None
    verify(scenario)  # the server still answers correctly after the load
    if scenario.grpc_target is None:
        result = parse_wrk(scenario, command, output)
    else:
        result = parse_h2load(scenario, command, output, workdir / f"{scenario.name}.log")
    if before is None or after is None:
        return result
    return Result(**{**result.__dict__, "costs": costs(before, after, result.completed)})


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
    """What the figures depend on: cores, CPU, kernel, the load, and the versions of the moving parts."""
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
        "git commit": services_commit(),
        "load average now (1/5/15 min)": " / ".join(f"{n:.2f}" for n in os.getloadavg()),
    }


def rates_of(results: list[Result], name: str) -> list[float]:
    return [r.requests_per_second for r in results if r.scenario.name == name]


def results_table(results: list[Result], *, reference: str = "") -> str:
    """Markdown: req/s and its ratio to the mean of the echo runs (and of the `reference` runs), p50/p99."""
    echo = statistics.mean(rates_of(results, "baseline"))
    other = rates_of(results, reference) if reference else []
    extra = f" ratio to {reference} |" if other else ""
    rows = [
        f"| scenario | req/s | ratio to echo |{extra} p50 ms | p99 ms | requests | failed |",
        "|---" + "|---:" * (7 if other else 6) + "|",
    ]
    for r in results:
        ratio = f" {r.requests_per_second / statistics.mean(other):.3f} |" if other else ""
        rows.append(
            f"| {r.scenario.name} | {r.requests_per_second:,.0f} | {r.requests_per_second / echo:.3f} |{ratio} "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.completed:,} | {r.failed} |"
        )
    return "\n".join(rows)


def per_scenario_costs(results: list[Result]) -> dict[str, Costs]:
    """Each measured run's costs by scenario name ("name (again)" for a baseline's second run)."""
    found: dict[str, Costs] = {}
    for r in results:
        if r.costs is not None:
            found[r.scenario.name + (" (again)" if r.scenario.name in found else "")] = r.costs
    return found


def drift(results: list[Result], name: str = "baseline") -> float:
    """How far a scenario run first and last moved between its runs, relative to their mean."""
    rates = rates_of(results, name)
    return abs(rates[0] - rates[-1]) / statistics.mean(rates) if len(rates) > 1 else 0.0
