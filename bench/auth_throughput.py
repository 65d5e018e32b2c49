"""Sign-in and token-verification throughput through the edge, as ratios to a public call of the same run.

Starts the whole mesh on free loopback ports, registers one reader, then drives with h2load (gRPC through
the edge, the same connections and one request in flight on each):

  baseline         GetBook without a token (public): edge + catalog, no token anywhere
  getbook-token    the same GetBook with the reader's access token: + jwt_authn ES256 verification at the
                   edge, + claims decoding and the revocation check in the service
  getuser-me       GetUser("users/me") with the token: an authenticated route that reads the users database
  baseline         again, to show the run's drift
  login            Login, spread over 64 accounts, 4 in flight (a grpc.aio driver: h2load repeats one body, and one
                   account's attempts are throttled): bounded by argon2id on purpose

and, in this process, single-threaded: argon2id verifications/s and PyJWT ES256 verifications/s. Writes
bench/results/auth_throughput-<UTC time>.md. Run by hand (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import platform
import re
import shlex
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import grpc
from costs import cpu_seconds, rss_mib
from loadtools import INSTALL_HINT, NO_PROXY, RESULTS_DIR, grpc_frame, parse_h2load, run_tool, shown, work_folder
from mesh_setup import create_book, start_mesh

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.mesh import registry

GET_BOOK = "/athenaeum.catalog.v1.CatalogService/GetBook"
GET_USER = "/athenaeum.users.v1.UsersService/GetUser"
PASSWORD = "Bench-Reader-2026"
SERVICE_NAMES = {spec.name for spec in registry.SERVICES}


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    payload: bytes
    token: str = ""

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()


def prepare(target: str) -> tuple[str, str]:
    """A book (made by the bootstrap admin) and a registered reader's access token."""
    book = create_book(target)
    with grpc.insecure_channel(target, options=NO_PROXY) as channel:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.org"
        reader = users_pb2_grpc.AuthServiceStub(channel).Register(
            users_pb2.RegisterRequest(email=email, password=PASSWORD), timeout=10
        )
        return book, reader.tokens.access_token


async def login_load(target: str, args: argparse.Namespace, users_pid: int, accounts: int = 64) -> dict[str, object]:
    """Logins/s with `login_in_flight` callers, each signing in one of `accounts` readers in turn, and
    the users service's CPU per login over the measured window."""
    emails = [f"bench-login-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(accounts)]
    async with grpc.aio.insecure_channel(target, options=NO_PROXY) as channel:
        auth = users_pb2_grpc.AuthServiceStub(channel)
        for email in emails:
            await auth.Register(users_pb2.RegisterRequest(email=email, password=PASSWORD), timeout=30)
        latencies: list[float] = []
        failures: collections.Counter[str] = collections.Counter()
        shed = 0

        async def login(email: str) -> None:
            """One sign-in; a call the service sheds (its admission limit) is repeated, as a client should."""
            nonlocal shed
            while True:
                try:
                    await auth.Login(users_pb2.LoginRequest(email=email, password=PASSWORD), timeout=60)
                    return
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or "capacity" not in (error.details() or ""):
                        raise
                    shed += 1
                    await asyncio.sleep(0.05)

        async def caller(offset: int, until: float, record: bool) -> None:
            n = offset
            while time.monotonic() < until:
                started = time.perf_counter()
                try:
                    await login(emails[n % accounts])
                    if record:
                        latencies.append(time.perf_counter() - started)
                except grpc.aio.AioRpcError as error:
                    failures[f"{error.code().name}: {error.details()}"] += record
                n += args.login_in_flight

        for seconds, record in ((args.warm_up, False), (args.duration, True)):
            until = time.monotonic() + seconds
            began, cpu_before, shed = time.perf_counter(), cpu_seconds(users_pid), 0
            await asyncio.gather(*(caller(i, until, record) for i in range(args.login_in_flight)))
            elapsed, users_cpu = time.perf_counter() - began, cpu_seconds(users_pid) - cpu_before
    cuts = statistics.quantiles(latencies, n=100)
    driver = ["grpc.aio-driver", f"--in-flight={args.login_in_flight}", f"--accounts={accounts}"]
    return {"name": "login", "rps": len(latencies) / elapsed, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000,
            "failed": sum(failures.values()), "failures": dict(failures), "shed": shed, "command": driver,
            "users_cpu_ms": users_cpu * 1000 / max(len(latencies), 1)}  # fmt: skip


def calls(book: str, token: str) -> list[Call]:
    get_book = catalog_pb2.GetBookRequest(name=book).SerializeToString()
    return [
        Call("baseline", GET_BOOK, get_book),
        Call("getbook-token", GET_BOOK, get_book, token),
        Call("getuser-me", GET_USER, users_pb2.GetUserRequest(name="users/me").SerializeToString(), token),
        Call("baseline", GET_BOOK, get_book),
    ]


def verify(target: str, call: Call) -> None:
    """One real call with the exact request and headers the load tool sends; raises unless it is OK."""
    with grpc.insecure_channel(target, options=NO_PROXY) as channel:
        method = channel.unary_unary(call.method, request_serializer=None, response_deserializer=None)
        method(call.payload, metadata=call.metadata, timeout=10)


def h2load(call: Call, url: str, args: argparse.Namespace, duration: int) -> list[str]:
    headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    if call.token:
        headers += ["-H", f"authorization: Bearer {call.token}"]
    shared = ["-c", str(args.concurrency), "-t", str(args.threads), "-m", "1", "-D", str(duration)]
    return ["h2load", *shared, "-d", f"{call.name}.grpc-body", "--log-file", f"{call.name}.log", *headers, url]


def run_call(call: Call, edge_url: str, target: str, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    (workdir / f"{call.name}.grpc-body").write_bytes(grpc_frame(call.payload))
    verify(target, call)
    run_tool(h2load(call, f"{edge_url}{call.method}", args, args.warm_up), workdir)
    (workdir / f"{call.name}.log").unlink(missing_ok=True)
    command = h2load(call, f"{edge_url}{call.method}", args, args.duration)
    result = parse_h2load(None, command, run_tool(command, workdir), workdir / f"{call.name}.log")  # type: ignore[arg-type]
    verify(target, call)
    return {"name": call.name, "rps": result.requests_per_second, "p50": result.p50_ms, "p99": result.p99_ms,
            "failed": result.failed, "command": command}  # fmt: skip


def in_process_rates(token: str, jwks: list[dict[str, str]], seconds: float = 2.0) -> dict[str, float]:
    """Single-threaded operations/s: argon2id verify (the production parameters) and ES256 verify."""
    from argon2 import PasswordHasher

    from services.users.data.passwords import MEMORY_COST_KIB, PARALLELISM, TIME_COST
    from services.users.domain.access_tokens import verify_access_token

    hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
    stored = hasher.hash(PASSWORD)
    return {
        "argon2id verify": rate(lambda: hasher.verify(stored, PASSWORD), seconds),
        "ES256 JWT verify (PyJWT)": rate(lambda: verify_access_token(token, jwks, now=datetime.now(UTC)), seconds),
    }


def rate(operation: Callable[[], object], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        operation()
        done += 1
    return done / (time.perf_counter() - started)


def report(
    results: list[dict[str, object]], local: dict[str, float], rss: dict[str, float], args: argparse.Namespace
) -> str:
    baselines = [float(r["rps"]) for r in results if r["name"] == "baseline"]
    base = sum(baselines) / len(baselines)
    drift = abs(baselines[-1] - baselines[0]) / base
    lines = [
        f"# Auth throughput — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.platform()}, cores: {_cores()}; h2load -c {args.concurrency} -t {args.threads} -m 1, "
        f"{args.duration} s per scenario after {args.warm_up} s warm-up.",
        f"Baseline = GetBook through the edge without a token (mean of first and last run); drift {drift:.1%}.",
        "",
        "| scenario | req/s | ratio to baseline | p50 ms | p99 ms | failed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['name']} | {float(r['rps']):,.0f} | {float(r['rps']) / base:.3f} | "
                     f"{float(r['p50']):.1f} | {float(r['p99']):.1f} | {r['failed']} |")  # fmt: skip
    logins = next(r for r in results if r["name"] == "login")
    failures = cast(dict[str, int], logins["failures"])
    lines += [f"- login failed with {reason}: {count}" for reason, count in failures.items()]
    lines += [
        "",
        f"Logins shed by the users service's admission limit and repeated: {logins['shed']}; "
        f"users service CPU per login: {float(logins['users_cpu_ms']):.1f} ms (argon2id and the shed calls included).",
    ]
    resident = ", ".join(f"{name} {mib:.0f}" for name, mib in sorted(rss.items()))
    lines += ["", f"RSS of each service after the run (MiB): {resident}"]
    lines += ["", "In-process, one thread:", "", "| operation | ops/s |", "|---|---:|"]
    lines += [f"| {name} | {value:,.0f} |" for name, value in local.items()]
    # The token came from a throw-away mesh, but a report is no place for credentials.
    commands = (re.sub(r"Bearer [\w.-]+", "Bearer $READER_TOKEN", shlex.join(r["command"])) for r in results)  # type: ignore[arg-type]
    lines += ["", "Commands:", "", *(f"    {command}" for command in commands)]
    return "\n".join(lines) + "\n"


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def main() -> int:
    """Run every scenario and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--login-in-flight", type=int, default=4, help="sign-ins in flight (more queue at the service's 2 hash slots)"
    )
    args = parser.parse_args()
    if shutil.which("h2load") is None:
        print(f"h2load is missing: {INSTALL_HINT}", file=sys.stderr)
        return 2
    data_dir = work_folder("athenaeum-bench-auth-")
    mesh = start_mesh(data_dir)
    try:
        book, token = prepare(mesh.edge_grpc_target)
        results = [run_call(c, mesh.edge_url, mesh.edge_grpc_target, args, data_dir) for c in calls(book, token)]
        services = {p.name: p.pid for p in mesh.processes if p.running and p.pid}
        results.append(asyncio.run(login_load(mesh.edge_grpc_target, args, services["users"])))
        with grpc.insecure_channel(mesh.edge_grpc_target, options=NO_PROXY) as channel:
            keys = users_pb2_grpc.AuthServiceStub(channel).GetJwks(users_pb2.GetJwksRequest(), timeout=10).keys
        jwks = [json.loads(json.dumps({f.name: v for f, v in key.ListFields()})) for key in keys]
        local = in_process_rates(token, jwks)  # a few seconds: the mesh is idle again when RSS is read
        rss = {name: rss_mib(pid) for name, pid in services.items() if name in SERVICE_NAMES}
        text = report(results, local, rss, args)
    finally:
        mesh.stop()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"auth_throughput-{datetime.now(UTC):%Y-%m-%dT%H%M}.md"
    path.write_text(text)
    print(text)
    print(f"written to {shown(path)}")
    shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
