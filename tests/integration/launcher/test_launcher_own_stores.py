"""`athenaeum up` as a newcomer runs it: the whole mesh on a Postgres and a NATS of its own (the other tiers
share the session's stores), each service signed in to that NATS as itself."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from services.support.launcher import cli
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.mesh import LocalMesh
from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration


def test_the_mesh_on_stores_of_its_own_serves_through_the_edge(shared_dir: Path) -> None:
    data_dir = shared_dir / "mesh"
    ports = free_ports()
    edge_port = next(ports)
    topology = local_mesh_topology(data_dir, ports=ports, edge_port=edge_port, edge_admin_port=next(ports))
    mesh = LocalMesh(data_dir, topology)
    mesh.start()  # returns once every service is SERVING: its database migrated, NATS connected, consumers up
    try:
        books = httpx.get(f"http://127.0.0.1:{edge_port}/v1/books", params={"page_size": 1}, timeout=10)
        assert books.status_code == 200, books.text
        refused = [line for line in (data_dir / "logs" / "nats.log").read_text().splitlines() if "Violation" in line]
        assert refused == []  # every service's rights are enough for what it does
        _the_operator_commands_find_its_postgres(data_dir)
    finally:
        mesh.stop()


def _the_operator_commands_find_its_postgres(data_dir: Path) -> None:
    """`migrate` and `users rotate-keys` as the README writes them: no URL, the mesh's own Postgres (not
    127.0.0.1:5432), each service's database as its own role."""
    unset: dict[str, str | None] = {f"ATHENAEUM_DATABASE_{name}": None for name in ("URL", "URL_FILE", "PASSWORD")}
    runner = CliRunner()
    migrated = runner.invoke(cli.app, ["migrate", "--data-dir", str(data_dir)], env={**unset, "DATABASE_URL": None})
    assert migrated.exit_code == 0, migrated.output
    assert "migrated users (athenaeum_users)" in migrated.output
    rotated = runner.invoke(cli.app, ["users", "rotate-keys"], env={**unset, "ATHENAEUM_DATA_DIR": str(data_dir)})
    assert rotated.exit_code == 0, rotated.output
    assert "published now" in rotated.output
