"""What the `athenaeum` command tells a person: its version, where the mesh is, how to try it, and a short
message (no traceback) when a call fails."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
import typer
from typer.testing import CliRunner

from services.support.launcher import cli, cli_running, state
from services.support.launcher.process_logs import log_tail
from services.support.launcher.processes import ProcessFailed
from services.support.launcher.server_account import NoServerAccount

ROOT = Path(__file__).resolve().parents[3]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_version_prints_the_pyproject_version() -> None:
    result = CliRunner().invoke(cli.app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == f"athenaeum {VERSION}"


def test_down_and_status_find_the_mesh_the_last_up_pointed_to(tmp_path: Path) -> None:
    default, elsewhere = tmp_path / ".athenaeum", tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert state.locate(default) == default  # nothing recorded anywhere: the default folder

    state.point_to(elsewhere, default)
    assert state.locate(default) == default  # the pointed-to folder records no mesh (yet)
    (elsewhere / state.STATE_FILE).write_text('{"processes": []}')
    assert state.locate(default) == elsewhere.resolve()

    (default / state.STATE_FILE).write_text('{"processes": []}')
    assert state.locate(default) == default  # a mesh of the default folder comes first
    state.forget_pointer(elsewhere, default)
    assert not (default / state.POINTER_FILE).exists()


def test_the_pointer_of_another_mesh_is_not_forgotten(tmp_path: Path) -> None:
    default, first, second = tmp_path / ".athenaeum", tmp_path / "first", tmp_path / "second"
    state.point_to(first, default)
    state.point_to(second, default)

    state.forget_pointer(first, default)

    assert (default / state.POINTER_FILE).read_text() == str(second.resolve())


def test_the_try_hint_names_the_grpcurl_of_the_virtualenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    mesh = SimpleNamespace(
        startup_seconds=1.0,
        endpoints=dict,
        data_dir=tmp_path,
        envoys=True,
        topology=SimpleNamespace(descriptor_path=ROOT / "gen/descriptor/athenaeum.binpb"),
        edge_url="http://127.0.0.1:8080",
        edge_grpc_target="127.0.0.1:8080",
        edge_admin_url="http://127.0.0.1:9901",
        sinks_password_file=tmp_path / "sinks" / "password",
    )
    with cli.console.capture() as captured:
        cli_running.print_ready(mesh)

    grpcurl = Path(sys.executable).parent / "grpcurl"
    expected = grpcurl.relative_to(ROOT) if grpcurl.is_relative_to(ROOT) else grpcurl
    assert f"  {expected} -plaintext " in captured.get()
    # How to open the sinks' pages, which ask for a password since 2026-12-06:
    assert f"user athenaeum and the password in {tmp_path / 'sinks' / 'password'}" in captured.get()


class Unreachable(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "failed to connect to all addresses"


def test_a_failed_call_is_told_in_two_lines_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def app() -> None:
        raise Unreachable()

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as exit_:
        cli.main()

    assert exit_.value.code == 1
    message = capsys.readouterr().err
    assert "the edge is unreachable (failed to connect to all addresses)" in message
    assert "ATHENAEUM_EDGE" in message and "Traceback" not in message


def test_an_error_that_is_no_failed_call_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def app() -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(KeyError):
        cli.main()


def test_catalog_demo_says_it_asks_for_a_password_and_reads_the_edge_from_the_environment() -> None:
    result = CliRunner().invoke(cli.app, ["catalog", "demo", "--help"], env={"COLUMNS": "200"})

    assert "asks for its password" in result.stdout
    assert "ATHENAEUM_EDGE" in result.stdout


def test_up_with_a_data_folder_that_cannot_be_made_says_so_before_it_starts_anything(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = CliRunner().invoke(cli.app, ["up", "--data-dir", str(a_file / "data")], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "Invalid value for '--data-dir': cannot make that folder: Not a directory" in result.output


def test_up_refuses_a_port_no_socket_can_have() -> None:
    result = CliRunner().invoke(cli.app, ["up", "--edge-port", "70000"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "--edge-port" in result.output


def test_a_mesh_that_did_not_start_is_told_without_a_traceback_with_a_hint_for_a_taken_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = 'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use'

    def app() -> None:
        raise ProcessFailed(f"postgres exited with code 1; log /tmp/x/logs/postgres.log:\n{log}")

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as exit_:
        cli.main()

    assert exit_.value.code == 1
    message = capsys.readouterr().err
    assert message.startswith("athenaeum: the mesh did not start: postgres exited with code 1")
    assert log in message and "--port-base" in message and "Traceback" not in message


def test_a_root_launcher_without_an_account_for_postgres_says_so_in_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def app() -> None:
        raise NoServerAccount("Postgres may not run as root and there is no account 'athenaeum-postgres'")

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as exit_:
        cli.main()

    assert exit_.value.code == 1
    message = capsys.readouterr().err
    assert message.startswith("athenaeum: the mesh did not start: Postgres may not run as root")
    assert "Traceback" not in message


def test_a_data_folder_a_root_launchers_postgres_cannot_reach_is_told_in_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def app() -> None:
        raise PermissionError("/tmp/private is not traversable by other users; Postgres runs as 'athenaeum-postgres'")

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as exit_:
        cli.main()

    message = capsys.readouterr().err
    assert exit_.value.code == 1 and "Traceback" not in message
    assert message.startswith("athenaeum: the mesh did not start: /tmp/private is not traversable by other users")


def test_the_excerpt_of_a_service_log_reads_its_messages_and_the_error_that_ends_a_traceback(tmp_path: Path) -> None:
    traceback = (
        'Traceback (most recent call last):\n  File "journal.py", line 66, in declare\n'
        "    await js.add_stream(self._config)\n"
        "nats.js.errors.ServerError: code=500 err_code=10047 description='insufficient storage resources available'"
    )
    entries = [
        {"level": "info", "logger": "athenaeum", "message": "logging configured", "service": "events"},
        {"level": "error", "message": "background task declare_journal died", "exception": traceback},
        {"level": "info", "message": "stopped", "service": "events"},
    ]
    log = tmp_path / "events.log"
    reason = "events: background task declare_journal died: JetStream cannot reserve 1 GiB for the ingest stream"
    log.write_text("".join(json.dumps(entry) + "\n" for entry in entries) + "plain line {not json\n" + reason + "\n")

    assert log_tail(log).splitlines() == [
        "info: logging configured",
        "error: background task declare_journal died",
        "  nats.js.errors.ServerError: code=500 err_code=10047 description='insufficient storage resources available'",
        "info: stopped",
        "plain line {not json",
        reason,
    ]
    assert log_tail(log, lines=2).splitlines() == ["plain line {not json", reason]
    assert log_tail(tmp_path / "missing.log") == ""


@pytest.mark.parametrize("last", ["0", "-1"])
def test_mail_refuses_to_list_no_or_a_negative_number_of_messages(last: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, ["mail", "--last", last, "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "--last" in result.output


def test_up_names_the_web_client_first_among_the_endpoints(tmp_path: Path) -> None:
    """README: "`up` prints the endpoints … the web client `http://localhost:8080/`"."""
    from services.support.launcher.layout import local_mesh_topology
    from services.support.launcher.mesh import LocalMesh
    from services.support.mesh.topology import free_ports

    ports = free_ports()
    edge_port = next(ports)
    topology = local_mesh_topology(tmp_path, ports=ports, edge_port=edge_port, edge_admin_port=next(ports))
    mesh = LocalMesh(tmp_path, topology, database_url="postgresql+asyncpg://127.0.0.1:1/x", nats_url="nats://x:1")
    assert next(iter(mesh.endpoints().items())) == ("web", f"http://127.0.0.1:{edge_port}/")


def _mesh_without_processes(tmp_path: Path) -> Any:
    from services.support.launcher.layout import local_mesh_topology
    from services.support.launcher.mesh import LocalMesh
    from services.support.mesh.topology import free_ports

    ports = free_ports()
    topology = local_mesh_topology(tmp_path, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    return LocalMesh(tmp_path, topology, database_url="postgresql+asyncpg://127.0.0.1:1/x", nats_url="nats://x:1")


def test_up_names_each_services_metrics_endpoint(tmp_path: Path) -> None:
    """On one host every service's /metrics has a port of its own: `up` (and launcher.json) say which."""
    from services.support.mesh import registry

    mesh = _mesh_without_processes(tmp_path)
    endpoints = mesh.endpoints()
    for spec in registry.SERVICES:
        placement = mesh.topology.placement(spec.name)
        assert endpoints[f"{spec.name} metrics"] == f"http://127.0.0.1:{placement.metrics_port}/metrics"
    mesh.startup_seconds, mesh.envoys = 1.0, False
    with cli_running.console.capture() as captured:
        cli_running.print_ready(mesh)
    (row,) = [line for line in captured.get().splitlines() if "loans metrics" in line]
    assert endpoints["loans metrics"] in row


def test_status_lists_each_services_metrics_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.support.launcher import cli_tools

    url = "http://127.0.0.1:7108/metrics"
    process = {"name": "loans", "pid": 1, "create_time": 0.0, "role": "service", "health_target": "x"}
    state.state_path(tmp_path).write_text(
        json.dumps({"ready": True, "endpoints": {"loans metrics": url}, "processes": [process]})
    )
    monkeypatch.setattr(state, "running_launcher", lambda data_dir: 1)
    monkeypatch.setattr(state, "is_same_process", lambda pid, create_time: True)
    monkeypatch.setattr(cli_tools, "process_health", lambda entry: "SERVING")

    result = CliRunner().invoke(cli.app, ["status", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert any("loans" in line and "SERVING" in line for line in result.output.splitlines())
    assert "  loans  http://127.0.0.1:7108/metrics" in result.output.splitlines()


def test_status_never_cuts_a_metrics_url_or_a_health_in_an_80_column_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped output (a log, a CI job) is 80 columns wide: the URL was cut to `http://127.0.0.1:…`."""
    from services.support.launcher import cli_options, cli_tools

    urls = {name: f"http://127.0.0.1:74{index:02}/metrics" for index, name in enumerate(("users", "notifications"))}
    processes = [
        {"name": name, "pid": 123456, "create_time": 0.0, "role": "service", "health_target": name}
        for name in (*urls, "notifications-sidecar")
    ]
    endpoints = {f"{name} metrics": url for name, url in urls.items()}
    state.state_path(tmp_path).write_text(json.dumps({"ready": True, "endpoints": endpoints, "processes": processes}))
    monkeypatch.setattr(state, "running_launcher", lambda data_dir: 1)
    monkeypatch.setattr(state, "is_same_process", lambda pid, create_time: True)
    monkeypatch.setattr(cli_tools, "process_health", lambda entry: "SERVING (messaging NOT_SERVING)")
    monkeypatch.setattr(cli_options.console, "width", 80)

    with cli_options.console.capture() as captured, pytest.raises(typer.Exit):
        cli_tools.status(tmp_path)

    output = captured.get()
    assert "…" not in output
    for name, url in urls.items():
        assert f"  {name:<13}  {url}" in output.splitlines()
    cells = "".join(line.split("│")[3].strip() for line in output.splitlines() if line.count("│") > 3)
    assert "SERVING(messagingNOT_SERVING)" in cells.replace(" ", "")
