"""How the commands that call the edge (`catalog import`, `catalog demo`, `events tail`) find it and speak to it.

Like `status` and `down`, they go to the mesh that `up` started from the data folder (`--data-dir`,
`ATHENAEUM_DATA_DIR`, else the one the last `up` from this folder used): with two meshes on a machine, a
password or a token never goes to the other one. `--target` names an edge instead (compose's, a port-forward);
`--tls` (or an `https://` target) speaks TLS to an edge behind a TLS front. Only typer at import: grpc, and
the launcher's state, are loaded when a command runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from services.support.launcher.cli_options import FoundDataDir

if TYPE_CHECKING:
    import grpc

DEFAULT_TARGET = "127.0.0.1:8080"
"""Where the edge is when no mesh was started from the data folder (compose publishes it there)."""

Target = Annotated[
    str | None,
    typer.Option(
        "--target",
        envvar="ATHENAEUM_EDGE",
        show_default=False,
        help="gRPC address of the edge, host:port, or https://host:port for TLS "
        f"(default: the edge of the mesh `up` started from the data folder, else {DEFAULT_TARGET}).",
    ),
]
Tls = Annotated[
    bool, typer.Option("--tls", envvar="ATHENAEUM_EDGE_TLS", help="Speak TLS to the edge (e.g. behind a TLS front).")
]
CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        envvar="ATHENAEUM_EDGE_CA_FILE",
        exists=True,
        dir_okay=False,
        help="With --tls: trust the edge's certificate by this PEM CA bundle (default: the system's CAs).",
    ),
]
DataDir = FoundDataDir


@dataclass(frozen=True)
class Edge:
    """An edge to dial: its address and how to speak to it."""

    target: str
    tls: bool = False
    ca_file: Path | None = None

    def channel(self) -> grpc.Channel:
        import grpc

        if not self.tls:
            return grpc.insecure_channel(self.target)
        roots = self.ca_file.read_bytes() if self.ca_file else None
        return grpc.secure_channel(self.target, grpc.ssl_channel_credentials(root_certificates=roots))


def find_edge(target: str | None, *, tls: bool, ca_file: Path | None, data_dir: Path | None) -> Edge:
    """The edge named by `target`, else that of the mesh `up` runs from the data folder, else the default one;
    a data folder named outright (`--data-dir`, ATHENAEUM_DATA_DIR) with no mesh running is refused."""
    if target is None:
        target = _recorded_edge(data_dir)
    scheme, separator, rest = target.partition("://")
    if separator and scheme in ("http", "https"):
        target, tls = rest.rstrip("/"), tls or scheme == "https"
    if ca_file is not None and not tls:
        raise typer.BadParameter("a CA bundle is for TLS: add --tls", param_hint="'--ca-file'")
    return Edge(target, tls, ca_file)


def _recorded_edge(data_dir: Path | None) -> str:
    from services.support.launcher.cli_options import found_data_dir
    from services.support.launcher.state import read_state, running_launcher

    folder = found_data_dir(data_dir)
    recorded = read_state(folder)
    if recorded is not None and running_launcher(folder) is not None:
        grpc_endpoint = recorded.get("endpoints", {}).get("grpc")
        if grpc_endpoint:
            return str(grpc_endpoint)
        problem = f"the mesh running from {folder} has no edge (--infra-only)"
    elif data_dir is None:
        return DEFAULT_TARGET
    else:
        problem = f"no mesh is running from {folder}"
    raise typer.BadParameter(f"{problem}: start one, or name an edge with --target", param_hint="'--data-dir'")


def access_token(edge: Edge, token: str | None, email: str | None) -> str | None:
    """`token`, or a token got by signing in as `email` (its password asked, or read from ATHENAEUM_PASSWORD)."""
    if token or not email:
        return token
    from athenaeum.users.v1 import users_pb2, users_pb2_grpc

    password = os.environ.get("ATHENAEUM_PASSWORD") or typer.prompt("Password", hide_input=True)
    with edge.channel() as channel:
        login = users_pb2_grpc.AuthServiceStub(channel).Login(
            users_pb2.LoginRequest(email=email, password=password), timeout=10
        )
    return str(login.tokens.access_token)
