"""The Envoys the launcher runs open no hot-restart sockets: those are abstract Unix sockets, which have no file
permissions, so any account of the host could send one a "terminate" or take its names first (H4)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from services.support.launcher import components
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.processes import ManagedProcess, Supervisor
from services.support.launcher.readiness import envoy_is_live, wait_until
from services.support.mesh import registry

pytestmark = pytest.mark.integration


def abstract_sockets_of(pid: int) -> list[str]:
    """The abstract-namespace names (`@…`) of the Unix sockets process `pid` holds open."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with_target = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        if with_target:
            inodes.add(with_target.group(1))
    names = []
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()  # Num RefCount Protocol Flags Type St Inode [Path]
        if len(fields) > 7 and fields[6] in inodes and fields[7].startswith("@"):
            names.append(fields[7])
    return names


def _start_edge(supervisor_dir: Path, ports: Iterator[int], stack: ExitStack) -> tuple[ManagedProcess, int]:
    """An edge Envoy as `up` starts it (its argv from envoy_spec), on a config with only its admin."""
    topology = local_mesh_topology(supervisor_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    config = supervisor_dir / "edge.yaml"
    admin = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": topology.edge_admin_port}}}
    config.write_text(yaml.safe_dump({"admin": admin}))
    spec = components.envoy_spec(registry.EDGE, config, topology)
    supervisor = stack.enter_context(Supervisor(supervisor_dir / "logs"))
    return supervisor.start(spec), topology.edge_admin_port


def test_two_meshes_envoys_run_side_by_side_without_an_abstract_socket(
    tmp_path: Path, free_port_source: Iterator[int]
) -> None:
    with ExitStack() as stack:
        first, first_admin = _start_edge(tmp_path / "first", free_port_source, stack)
        second, second_admin = _start_edge(tmp_path / "second", free_port_source, stack)
        for admin_port in (first_admin, second_admin):
            wait_until(lambda port=admin_port: envoy_is_live(port), timeout=15, what="the Envoy LIVE")
        for envoy in (first, second):
            assert envoy.pid is not None and envoy.running
            assert [name for name in abstract_sockets_of(envoy.pid) if "envoy" in name] == []
