"""Where each part of the mesh listens, for one way of running it.

The same registry is placed three ways: on one host (the local launcher and the tests: every process on
loopback, distinct ports), in docker-compose and in Kubernetes (one network namespace per service, so every
service uses the same well-known ports and peers are reached by DNS name).
"""

from __future__ import annotations

import random
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.support.mesh.envoy_heap import EDGE_HEAP_BUDGET_BYTES
from services.support.mesh.registry import EDGE_RATE_LIMITS, EDGE_TRUSTED_PROXY_HOPS, SERVICES, RateLimits


@dataclass(frozen=True, slots=True)
class Placement:
    """Addresses of one service and its Envoy sidecar."""

    host: str
    """How peers (the edge, other sidecars) reach this service's sidecar."""
    app_socket: Path
    """The service process itself: plaintext gRPC on a Unix domain socket that only its sidecar (the same
    user, in a folder no one else may enter) can open; no TCP port answers for it."""
    inbound_port: int
    """Sidecar listener: terminates mTLS, requires a mesh client certificate, applies RBAC."""
    outbound_socket: Path
    """Sidecar listener for calls that leave the service (presents its certificate): a Unix domain socket
    beside app_socket, so no other local process can call the mesh in the service's name."""
    admin_port: int
    """Sidecar Envoy admin (stats, /ready), loopback only; with `admin_socket`, its read-only pages."""
    metrics_port: int
    """The service's Prometheus endpoint."""
    metrics_host: str = "127.0.0.1"
    """Where the Prometheus endpoint listens: where the scraper reaches it, and nowhere else."""
    ops_port: int = 0
    """Sidecar's plaintext operations listener (gRPC health for probes, Envoy's Prometheus stats); 0: none."""
    admin_socket: Path | None = None
    """Where the sidecar's whole admin listens, owner only (one host); None: on loopback `admin_port`."""


@dataclass(frozen=True, slots=True)
class Topology:
    services: dict[str, Placement]
    edge_port: int
    """Public listener: REST/JSON and gRPC."""
    edge_admin_port: int
    bind_host: str
    """Address the edge and inbound sidecar listeners bind (loopback locally, all interfaces in containers)."""
    cert_dir: Path
    """Holds ca.pem and <identity>.pem / <identity>-key.pem for every mesh identity."""
    descriptor_path: Path
    """Descriptor set of every proto, for the edge's grpc_json_transcoder."""
    edge_ops_port: int = 0
    """The edge's plaintext operations listener (readiness, Envoy's Prometheus stats); 0: none."""
    edge_admin_socket: Path | None = None
    """Where the edge's whole admin listens, owner only (one host); None: on loopback `edge_admin_port`."""
    web_root: Path | None = None
    """Where the edge finds the web client's files (a copy of web/); None: the edge serves no web client."""
    docs_dir: Path | None = None
    """The API reference the edge serves at /openapi.json and /docs (gen/docs); None: not served."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins (scheme://host[:port]) allowed to call the edge cross-origin; empty: none."""
    rate_limits: RateLimits | None = EDGE_RATE_LIMITS
    """The edge's rate limits per class of route; None: none (benchmarks of raw throughput)."""
    trusted_proxy_hops: int = EDGE_TRUSTED_PROXY_HOPS
    """Proxies in front of the edge whose X-Forwarded-For it believes."""
    edge_heap_budget_bytes: int = EDGE_HEAP_BUDGET_BYTES
    """The heap the edge may use before it sheds load (envoy_heap); the Helm chart sets it from its memory limit."""

    def placement(self, name: str) -> Placement:
        return self.services[name]


# Fixed ports inside a container or pod: each service has its own network namespace there.
CONTAINER_INBOUND_PORT = 8443
# The service and its sidecar share this folder (an emptyDir in a pod, a volume of its own in compose).
CONTAINER_SOCKET_DIR = Path("/run/athenaeum")
APP_SOCKET = "app.sock"
OUTBOUND_SOCKET = "outbound.sock"
ADMIN_SOCKET = "admin.sock"
CONTAINER_ADMIN_PORT = 9901
CONTAINER_METRICS_PORT = 9464
CONTAINER_EDGE_PORT = 8080
CONTAINER_EDGE_ADMIN_PORT = 9901
# Probes and Prometheus reach a pod on its IP, never on loopback where the admin and the service listen.
CONTAINER_OPS_PORT = 15021


def container_topology(
    *,
    cert_dir: Path,
    descriptor_path: Path,
    web_root: Path | None = None,
    docs_dir: Path | None = None,
    cors_origins: tuple[str, ...] = (),
) -> Topology:
    """docker-compose / Kubernetes: peers by DNS name, the same ports everywhere."""
    return Topology(
        services={
            spec.name: Placement(
                host=spec.name,
                app_socket=CONTAINER_SOCKET_DIR / APP_SOCKET,
                inbound_port=CONTAINER_INBOUND_PORT,
                outbound_socket=CONTAINER_SOCKET_DIR / OUTBOUND_SOCKET,
                admin_port=CONTAINER_ADMIN_PORT,
                metrics_port=CONTAINER_METRICS_PORT,
                metrics_host="0.0.0.0",  # Prometheus scrapes the pod's IP
                ops_port=CONTAINER_OPS_PORT,
            )
            for spec in SERVICES
        },
        edge_port=CONTAINER_EDGE_PORT,
        edge_admin_port=CONTAINER_EDGE_ADMIN_PORT,
        bind_host="0.0.0.0",
        cert_dir=cert_dir,
        descriptor_path=descriptor_path,
        edge_ops_port=CONTAINER_OPS_PORT,
        web_root=web_root,
        docs_dir=docs_dir,
        cors_origins=cors_origins,
    )


def local_topology(
    *,
    ports: Iterator[int],
    socket_dir: Path,
    edge_port: int,
    edge_admin_port: int,
    cert_dir: Path,
    descriptor_path: Path,
    web_root: Path | None = None,
    docs_dir: Path | None = None,
    cors_origins: tuple[str, ...] = (),
) -> Topology:
    """One host: everything on loopback; `ports` hands out a distinct port per listener, `socket_dir` (owner
    only: see private_socket_dir) holds each service's and its sidecar's sockets."""
    return Topology(
        services={
            spec.name: Placement(
                host="127.0.0.1",
                app_socket=socket_dir / f"{spec.name}-{APP_SOCKET}",
                inbound_port=next(ports),
                outbound_socket=socket_dir / f"{spec.name}-{OUTBOUND_SOCKET}",
                admin_port=next(ports),
                metrics_port=next(ports),
                admin_socket=socket_dir / f"{spec.name}-{ADMIN_SOCKET}",
            )
            for spec in SERVICES
        },
        edge_port=edge_port,
        edge_admin_port=edge_admin_port,
        edge_admin_socket=socket_dir / f"edge-{ADMIN_SOCKET}",
        bind_host="127.0.0.1",
        cert_dir=cert_dir,
        descriptor_path=descriptor_path,
        web_root=web_root,
        docs_dir=docs_dir,
        cors_origins=cors_origins,
    )


# sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
MAX_SOCKET_PATH = 100
LONGEST_SOCKET_NAME = max(len(f"{spec.name}-{name}") for spec in SERVICES for name in (OUTBOUND_SOCKET, ADMIN_SOCKET))


def private_socket_dir(preferred: Path) -> Path:
    """A folder for the mesh's Unix sockets that only this user may enter: `preferred` when every socket
    path fits in it, else a fresh short one under the system's temporary folder."""
    if len(str(preferred.resolve())) + 1 + LONGEST_SOCKET_NAME > MAX_SOCKET_PATH:
        return Path(tempfile.mkdtemp(prefix="athenaeum-"))  # created 0700
    preferred.mkdir(parents=True, exist_ok=True)
    preferred.chmod(0o700)
    return preferred.resolve()


def sequential_ports(base: int) -> Iterator[int]:
    """Predictable ports for `athenaeum up` (base, base+1, ...)."""
    port = base
    while True:
        yield port
        port += 1


def free_ports() -> Iterator[int]:
    """Ports free right now (for tests and benches: never assume a fixed port is free), in random order and
    never one handed out before in this process. Outside the kernel's range of ephemeral ports: one it hands
    out for a bind to port 0 it may give an outgoing connection a moment later, before the server meant to
    have it binds it (seen: Postgres refused to start, "Address already in use", in a busy test run)."""
    low, high = ephemeral_port_range()
    candidates = [port for port in range(_LOWEST_PORT, 65536) if not low <= port <= high and port not in _HANDED_OUT]
    random.shuffle(candidates)
    for port in candidates or _kernel_picks():
        if port in _HANDED_OUT or not port_is_free(port):
            continue
        _HANDED_OUT.add(port)
        yield port


_LOWEST_PORT = 10_000
"""Below it, the ports of well-known services."""
_HANDED_OUT: set[int] = set()


def ephemeral_port_range() -> tuple[int, int]:
    """The ports the kernel gives outgoing connections (and binds to port 0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _kernel_picks() -> Iterator[int]:
    """The kernel's own choices, when the ephemeral range leaves no other port (a tuned machine)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            yield sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could bind `port` on the loopback address right now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
