"""How each part of the mesh is run: the command line and environment of services and Envoys."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from services.support.launcher.envoy_process import envoy_binary
from services.support.launcher.processes import ProcessSpec
from services.support.mesh import registry
from services.support.mesh.topology import Topology

REPO_ROOT = Path(__file__).resolve().parents[3]
EDGE = registry.EDGE
SERVICE_ROLE = "service"
ENVOY_ROLE = "envoy"
DRAIN_SECONDS = 10.0
"""BaseServiceSettings.shutdown_grace_seconds' default: how long a service lets calls in flight finish."""
CLOSING_SECONDS = 10.0
"""After its drain, a service closes: the outbox relay's last batch, NATS's drain, the database pools."""


def sidecar_name(service: str) -> str:
    """The supervised process name of a service's sidecar Envoy."""
    return f"{service}-sidecar"


def _python_path() -> str:
    # The package is normally installed (editable); this keeps a plain checkout runnable too.
    entries = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python"), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(entry for entry in entries if entry)


def _no_proxy() -> str:
    # Mesh traffic is loopback only; an HTTP(S)_PROXY from the environment must not capture it.
    existing = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    return ",".join(part for part in (existing, "127.0.0.1", "localhost") if part)


def service_spec(
    name: str,
    topology: Topology,
    *,
    database_url: str,
    nats_url: str,
    environment: str = "dev",
    log_level: str = "INFO",
    extra_env: Mapping[str, str] | None = None,
) -> ProcessSpec:
    """`python -m services.<name>.main` with the ATHENAEUM_* settings of the service runtime."""
    spec = registry.service(name)
    placement = topology.placement(name)
    settings = {
        "ATHENAEUM_SOCKET": str(placement.app_socket),
        "ATHENAEUM_DATABASE_URL": database_url,
        "ATHENAEUM_NATS_URL": nats_url,
        "ATHENAEUM_MESH_URL": f"unix:{placement.outbound_socket}",
        "ATHENAEUM_METRICS_HOST": placement.metrics_host,
        "ATHENAEUM_METRICS_PORT": str(placement.metrics_port),
        "ATHENAEUM_ENVIRONMENT": environment,
        "ATHENAEUM_LOG_LEVEL": log_level,
        **(extra_env or {}),
    }
    no_proxy = _no_proxy()
    env = {
        **os.environ,
        **settings,
        "PYTHONPATH": _python_path(),
        "PYTHONUNBUFFERED": "1",
        # glibc's malloc makes an arena per thread (grpc, executors): two keep a service's peak RSS lower
        # (notifications bench: 130 -> 123 MiB after a 10,000-event burst), at no measurable CPU cost.
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }
    return ProcessSpec(
        name=name,
        argv=[sys.executable, "-m", spec.module],
        env=env,
        cwd=REPO_ROOT,
        stop_grace=_drain_seconds(env) + CLOSING_SECONDS,  # SIGKILL only once the SIGTERM drain had its time
        extra={"role": SERVICE_ROLE, "health_target": f"unix:{placement.app_socket}"},
    )


def _drain_seconds(env: Mapping[str, str]) -> float:
    try:
        return max(float(env.get("ATHENAEUM_SHUTDOWN_GRACE_SECONDS", DRAIN_SECONDS)), 0.0)
    except ValueError:  # the service refuses it at start, naming the setting
        return DRAIN_SECONDS


def metrics_endpoints(topology: Topology, services: tuple[str, ...]) -> dict[str, str]:
    """Each service's Prometheus endpoint (outbox backlog, consumers, database pool), by "<service> metrics":
    on one host every service has a port of its own, and the edge's admin has none of these."""
    placements = {name: topology.placement(name) for name in services}
    return {f"{name} metrics": f"http://{p.metrics_host}:{p.metrics_port}/metrics" for name, p in placements.items()}


def envoy_admin_port(name: str, topology: Topology) -> int:
    """The admin port of the edge (name "edge") or of a service's sidecar (name = the service)."""
    return topology.edge_admin_port if name == EDGE else topology.placement(name).admin_port


def envoy_spec(name: str, config_path: Path, topology: Topology, *, log_level: str = "warn") -> ProcessSpec:
    """The edge (name "edge") or the sidecar of service `name`, running `config_path`."""
    admin_port = envoy_admin_port(name, topology)
    # fmt: off
    argv = [
        str(envoy_binary()),
        "-c", str(config_path),
        "--log-level", log_level,
        # The launcher restarts an Envoy by stopping and starting it; hot restart would only open its RPC
        # sockets, abstract Unix sockets that every account of the host may send to ("terminate") or take
        # first. Without it no base id is needed, so any number of meshes share the host.
        "--disable-hot-restart",
    ]
    # fmt: on
    if name != EDGE:
        # A sidecar carries one service's traffic: one worker thread is plenty and spares the 2 cores.
        argv += ["--concurrency", "1"]
    return ProcessSpec(
        name=EDGE if name == EDGE else sidecar_name(name),
        argv=argv,
        extra={"role": ENVOY_ROLE, "admin_port": admin_port},
    )
