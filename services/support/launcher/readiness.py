"""Readiness probes: ask each component itself whether it is ready, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import concurrent.futures
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import tenacity

T = TypeVar("T")
POLL_SECONDS = 0.05
# Probes only ever hit loopback: never send them through an HTTP(S)_PROXY from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NotReady(TimeoutError):
    """A component did not become ready in time."""


def wait_until(
    probe: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    check_alive: Callable[[], None] = lambda: None,
) -> None:
    """Poll `probe` until it returns True; `check_alive` raises early if the process behind it died."""

    def attempt() -> bool:
        check_alive()
        return probe()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_fixed(POLL_SECONDS),
        retry=tenacity.retry_if_result(lambda ready: not ready),
        retry_error_callback=lambda state: _raise_not_ready(what, timeout),
    )
    retrying(attempt)


def _raise_not_ready(what: str, timeout: float) -> bool:
    raise NotReady(f"{what} was not ready after {timeout:.0f}s")


def http_body(url: str, timeout: float = 1.0) -> str | None:
    """The body of a 200 response, or None when the server is not answering (yet)."""
    try:
        with _DIRECT.open(url, timeout=timeout) as response:
            return response.read().decode(errors="replace") if response.status == 200 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def envoy_is_live(admin_port: int) -> bool:
    """Envoy's admin /ready answers LIVE once its listeners and clusters are initialised."""
    return (http_body(f"http://127.0.0.1:{admin_port}/ready") or "").strip() == "LIVE"


def envoy_sees_every_host_healthy(admin_port: int) -> bool:
    """Envoy's admin /clusters lists every host of every cluster with health_flags `healthy`: a peer that came
    back is taken back by a sidecar's next health check, not when the peer's own probe says SERVING."""
    clusters = http_body(f"http://127.0.0.1:{admin_port}/clusters")
    if clusters is None:
        return False
    flags = [line.rsplit("::", 1)[-1] for line in clusters.splitlines() if "::health_flags::" in line]
    return all(flag == "healthy" for flag in flags)


def grpc_health_status(target: str, timeout: float = 1.0, *, service: str = "") -> str:
    """The grpc.health.v1 status of `target` (overall: readiness, or `service`'s), or the error's code name."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as error:
            return error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def service_health(target: str) -> str:
    """A service's readiness, and its messaging (NATS, consumers) when that is down though the service is
    ready: "SERVING" only when both are (what `up` waits for: the mesh's events flow; `status` shows it)."""
    from services.support.runtime.probes import MESSAGING_SERVICE

    ready = grpc_health_status(target)
    if ready != "SERVING":
        return ready
    messaging = grpc_health_status(target, service=MESSAGING_SERVICE)
    return ready if messaging == "SERVING" else f"SERVING (messaging {messaging})"


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
