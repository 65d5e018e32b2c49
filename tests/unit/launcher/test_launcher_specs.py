"""How the launcher runs each process, and the bookkeeping around it (no process is started here)."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from services.support.launcher import components, state
from services.support.launcher.cli import app
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.mesh import LocalMesh
from services.support.launcher.postgres import PostgresServer, asyncpg_dsn
from services.support.mesh import registry
from services.support.mesh.topology import sequential_ports


@pytest.fixture
def topology(tmp_path: Path):
    return local_mesh_topology(tmp_path, ports=sequential_ports(7100), edge_port=8080, edge_admin_port=9901)


def test_a_service_gets_the_settings_contract_of_the_runtime(topology) -> None:
    spec = components.service_spec(
        "loans",
        topology,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/athenaeum_loans",
        nats_url="nats://127.0.0.1:2",
    )
    placement = topology.placement("loans")

    assert spec.argv == [sys.executable, "-m", "services.loans.main"]
    assert spec.env is not None
    assert {key: value for key, value in spec.env.items() if key.startswith("ATHENAEUM_")} == {
        "ATHENAEUM_SOCKET": str(placement.app_socket),
        "ATHENAEUM_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/athenaeum_loans",
        "ATHENAEUM_NATS_URL": "nats://127.0.0.1:2",
        "ATHENAEUM_MESH_URL": f"unix:{placement.outbound_socket}",
        "ATHENAEUM_METRICS_HOST": "127.0.0.1",
        "ATHENAEUM_METRICS_PORT": str(placement.metrics_port),
        "ATHENAEUM_ENVIRONMENT": "dev",
        "ATHENAEUM_LOG_LEVEL": "INFO",
    }
    assert "127.0.0.1" in spec.env["NO_PROXY"]


def test_every_envoy_of_a_mesh_runs_without_hot_restart_and_its_sockets_open_to_every_account(
    topology, tmp_path: Path
) -> None:
    names = [registry.EDGE, *(spec.name for spec in registry.SERVICES)]
    specs = [components.envoy_spec(name, tmp_path / f"{name}.yaml", topology) for name in names]

    for spec in specs:
        assert "--disable-hot-restart" in spec.argv
        assert "--base-id" not in spec.argv
    assert [spec.name for spec in specs] == ["edge", *(f"{spec.name}-sidecar" for spec in registry.SERVICES)]


def test_a_database_url_is_derived_per_database_and_given_to_asyncpg_without_the_driver() -> None:
    server = PostgresServer("postgresql+asyncpg://postgres:secret@db.example:6543/postgres")

    assert server.url_for("athenaeum_users") == "postgresql+asyncpg://postgres:secret@db.example:6543/athenaeum_users"
    assert asyncpg_dsn(server.admin_url) == "postgresql://postgres:secret@db.example:6543/postgres"


@pytest.mark.parametrize("name", ['x"; DROP DATABASE postgres; --', "Upper", ""])
def test_a_database_name_that_is_not_a_plain_identifier_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="refusing"):
        PostgresServer("postgresql+asyncpg://postgres@127.0.0.1:1/postgres").create_database(name)


def test_a_recorded_process_is_recognised_only_with_its_start_time() -> None:
    me = psutil.Process()

    assert state.is_same_process(os.getpid(), me.create_time())
    assert not state.is_same_process(os.getpid(), me.create_time() - 60)
    assert not state.is_same_process(None, me.create_time())


def test_the_state_file_records_the_launcher_and_the_endpoints(tmp_path: Path) -> None:
    state.write_state(tmp_path, [], {"rest": "http://127.0.0.1:8080"})

    recorded = state.read_state(tmp_path)
    assert recorded is not None
    assert recorded["launcher_pid"] == os.getpid()
    assert recorded["endpoints"] == {"rest": "http://127.0.0.1:8080"}
    assert state.running_launcher(tmp_path) == os.getpid()


def test_down_and_status_say_so_when_no_mesh_runs(tmp_path: Path) -> None:
    runner = CliRunner()

    assert state.stop_recorded_mesh(tmp_path) == []
    down = runner.invoke(app, ["down", "--data-dir", str(tmp_path)])
    status = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert (down.exit_code, "No mesh is running" in down.output) == (0, True)
    assert (status.exit_code, "No mesh is running" in status.output) == (1, True)


def test_the_mesh_refuses_to_start_without_the_descriptor_set_and_says_how_to_make_it(tmp_path: Path) -> None:
    topology = local_mesh_topology(tmp_path, ports=sequential_ports(7100), edge_port=8080, edge_admin_port=9901)
    mesh = LocalMesh(tmp_path, dataclasses.replace(topology, descriptor_path=tmp_path / "missing.binpb"))

    with pytest.raises(FileNotFoundError, match="athenaeum generate"):
        mesh.start()
    assert mesh.processes == []


def test_a_second_mesh_on_a_claimed_data_folder_is_refused_before_any_state_is_written(topology, tmp_path) -> None:
    first, second = (LocalMesh(tmp_path, topology, envoys=False) for _ in range(2))
    first.claim()
    try:
        (tmp_path / state.STATE_FILE).write_text("{}")  # as the first mesh records its processes
        with pytest.raises(state.MeshAlreadyRunning, match="already running"):
            second.start()
        second.stop()  # what `up` does after a failed start
        assert (tmp_path / state.STATE_FILE).exists()
    finally:
        first.stop()
    assert not (tmp_path / state.STATE_FILE).exists()


def test_links_in_messages_lead_to_the_edge_port_the_mesh_was_started_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`up --edge-port 8280`: a reset link to :8080 led to another mesh, or nowhere."""
    monkeypatch.delenv("ATHENAEUM_WEB_URL", raising=False)
    topology = local_mesh_topology(tmp_path, ports=sequential_ports(7200), edge_port=8280, edge_admin_port=9281)
    environment = LocalMesh(tmp_path, topology, envoys=False).service_environment()

    assert environment["ATHENAEUM_WEB_URL"] == "http://localhost:8280"
    assert "ATHENAEUM_SMTP_PORT" in environment


def test_a_web_address_given_in_the_environment_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENAEUM_WEB_URL", "https://library.example.org")
    topology = local_mesh_topology(tmp_path, ports=sequential_ports(7200), edge_port=8280, edge_admin_port=9281)

    assert "ATHENAEUM_WEB_URL" not in LocalMesh(tmp_path, topology, envoys=False).service_environment()
