"""The baselines every bench measures in its own run: a bare grpc.aio echo, and the FastAPI + asyncpg GetBook.

Each runs in a process of its own (as every service does), so its CPU can be read from /proc like theirs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
from multiprocessing.process import BaseProcess
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from services.support.launcher.readiness import grpc_health_status, http_body, wait_until

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
FASTAPI_SCRIPT = Path(__file__).resolve().parent / "fastapi_baseline.py"


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
    """The echo server in a process of its own, as each service runs in its own."""
    port = int(target.rsplit(":", 1)[1])
    process = multiprocessing.get_context("spawn").Process(target=serve_baseline, args=(port,), daemon=True)
    process.start()

    def check_alive() -> None:
        if not process.is_alive():
            raise RuntimeError(f"the baseline server exited with {process.exitcode}")

    wait_until(lambda: grpc_health_status(target) == "SERVING", timeout=30, what="baseline", check_alive=check_alive)
    return process


def stop_baseline(process: BaseProcess | None) -> None:
    if process is not None:
        process.terminate()
        process.join(timeout=10)


def start_fastapi(port: int, dsn: str, log: Path) -> subprocess.Popen[bytes]:
    """The FastAPI + asyncpg GetBook on 127.0.0.1:`port`, reading the catalog database at `dsn`."""
    argv = [sys.executable, str(FASTAPI_SCRIPT), "--port", str(port), "--dsn", dsn]
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def check_alive() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"the FastAPI baseline exited with {process.returncode}: see {log}")

    url = f"http://127.0.0.1:{port}/healthz"
    wait_until(lambda: "SERVING" in (http_body(url, timeout=2) or ""), timeout=30, what="fastapi",
               check_alive=check_alive)  # fmt: skip
    return process


def stop_fastapi(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
