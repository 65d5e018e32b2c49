"""Where each part of the mesh listens, for one way of running it.

The same registry is placed three ways: on one host (the local launcher and the tests: every process on
loopback, distinct ports), in docker-compose and in Kubernetes (one network namespace per service, so every
service uses the same well-known ports and peers are reached by DNS name).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.support.mesh.registry import SERVICES


@dataclass(frozen=True, slots=True)
class Placement:
    """Addresses of one service and its Envoy sidecar."""

    host: str
    """How peers (the edge, other sidecars) reach this service's sidecar."""
    app_port: int
    """The service process itself: gRPC, loopback only."""
    inbound_port: int
    """Sidecar listener: terminates mTLS, requires a mesh client certificate, applies RBAC."""
    outbound_port: int
    """Sidecar listener on loopback for calls that leave the service (presents its certificate)."""
    admin_port: int
    """Sidecar Envoy admin (stats, /ready), loopback only."""
    metrics_port: int
    """The service's Prometheus endpoint."""
    ops_port: int = 0
    """Sidecar's plaintext operations listener (gRPC health for probes, Envoy's Prometheus stats); 0: none."""


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
    web_root: Path | None = None
    """Where the edge finds the web client's files (a copy of web/); None: the edge serves no web client."""
    docs_dir: Path | None = None
    """The API reference the edge serves at /openapi.json and /docs (gen/docs); None: not served."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins (scheme://host[:port]) allowed to call the edge cross-origin; empty: none."""

    def placement(self, name: str) -> Placement:
        return self.services[name]


# Fixed ports inside a container or pod: each service has its own network namespace there.
CONTAINER_APP_PORT = 50051
CONTAINER_INBOUND_PORT = 8443
CONTAINER_OUTBOUND_PORT = 15001
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
                app_port=CONTAINER_APP_PORT,
                inbound_port=CONTAINER_INBOUND_PORT,
                outbound_port=CONTAINER_OUTBOUND_PORT,
                admin_port=CONTAINER_ADMIN_PORT,
                metrics_port=CONTAINER_METRICS_PORT,
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
    edge_port: int,
    edge_admin_port: int,
    cert_dir: Path,
    descriptor_path: Path,
    web_root: Path | None = None,
    docs_dir: Path | None = None,
    cors_origins: tuple[str, ...] = (),
) -> Topology:
    """One host: everything on loopback; `ports` hands out a distinct port per listener."""
    return Topology(
        services={
            spec.name: Placement(
                host="127.0.0.1",
                app_port=next(ports),
                inbound_port=next(ports),
                outbound_port=next(ports),
                admin_port=next(ports),
                metrics_port=next(ports),
            )
            for spec in SERVICES
        },
        edge_port=edge_port,
        edge_admin_port=edge_admin_port,
        bind_host="127.0.0.1",
        cert_dir=cert_dir,
        descriptor_path=descriptor_path,
        web_root=web_root,
        docs_dir=docs_dir,
        cors_origins=cors_origins,
    )


def sequential_ports(base: int) -> Iterator[int]:
    """Predictable ports for `athenaeum up` (base, base+1, ...)."""
    port = base
    while True:
        yield port
        port += 1


def free_ports() -> Iterator[int]:
    """Ports the kernel says are free right now (for tests: never assume a fixed port is free)."""
    handed_out: set[int] = set()
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in handed_out:
            handed_out.add(port)
            yield port
