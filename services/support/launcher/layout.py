"""Where a local mesh's parts live: its topology under a data folder (everything on loopback) and the
addresses a tool dials, which follow from the topology alone (no process needs to run to name them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from services.support.launcher import components
from services.support.launcher.ownership import require_own_data_dir
from services.support.mesh.topology import Topology, local_topology, private_socket_dir

DESCRIPTOR_PATH = components.REPO_ROOT / "gen" / "descriptor" / "athenaeum.binpb"
WEB_ROOT = components.REPO_ROOT / "web"
DOCS_DIR = components.REPO_ROOT / "gen" / "docs"


def local_mesh_topology(
    data_dir: Path,
    *,
    ports: Iterator[int],
    edge_port: int,
    edge_admin_port: int,
    cors_origins: tuple[str, ...] = (),
) -> Topology:
    """Everything on loopback, certificates under `data_dir` and the services' sockets in its `run/` (owner
    only), the descriptor set and API docs from `gen/`, the web client from `web/`. NotOurs when another account
    owns the data folder or anything in it, or may write to it."""
    data_dir.mkdir(mode=0o755, parents=True, exist_ok=True)  # never writable by others, whatever the umask
    require_own_data_dir(data_dir)
    return local_topology(
        ports=ports,
        socket_dir=private_socket_dir(data_dir / "run"),
        edge_port=edge_port,
        edge_admin_port=edge_admin_port,
        cert_dir=data_dir.resolve() / "certs",
        descriptor_path=DESCRIPTOR_PATH,
        web_root=WEB_ROOT,
        docs_dir=DOCS_DIR,
        cors_origins=cors_origins,
    )


class MeshAddresses:
    """The addresses of a topology's edge, services and sidecars, as a client or a test dials them."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.topology.edge_port}"

    @property
    def edge_grpc_target(self) -> str:
        return f"127.0.0.1:{self.topology.edge_port}"

    @property
    def edge_admin_url(self) -> str:
        return f"http://127.0.0.1:{self.topology.edge_admin_port}"

    def app_target(self, service: str) -> str:
        """gRPC target of the service process itself (plaintext, its Unix socket: this user only)."""
        return f"unix:{self.topology.placement(service).app_socket}"

    def sidecar_target(self, service: str) -> str:
        """host:port of the service's sidecar inbound listener (mTLS; a mesh certificate is required)."""
        placement = self.topology.placement(service)
        return f"{placement.host}:{placement.inbound_port}"

    def outbound_target(self, service: str) -> str:
        """gRPC target of the service's sidecar outbound listener (what the service dials for its peers)."""
        return f"unix:{self.topology.placement(service).outbound_socket}"
