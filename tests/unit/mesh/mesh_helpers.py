"""Topologies the mesh generator tests build configs for (nothing is started: the paths need not exist)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from services.support.mesh.topology import Topology, local_topology, sequential_ports


def loopback_topology(base_port: int, descriptor: Path = Path("d"), **changes: Any) -> Topology:
    """Everything on loopback from `base_port` up, with `changes` to the Topology's fields."""
    ports = sequential_ports(base_port)
    topology = local_topology(
        ports=ports,
        socket_dir=Path("run"),
        edge_port=next(ports),
        edge_admin_port=next(ports),
        cert_dir=Path("certs"),
        descriptor_path=descriptor,
    )
    return dataclasses.replace(topology, **changes)
