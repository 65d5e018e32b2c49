"""The commands that call the edge find the mesh `up` started from the data folder, as `status` and `down` do,
and speak TLS when asked: a password or a token never goes to another mesh's edge, nor in clear to a TLS one."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from services.catalog import cli as catalog_cli
from services.support.launcher import state
from services.support.launcher.cli import app
from services.support.launcher.edge_client import DEFAULT_TARGET, Edge, find_edge

RECORDED = "127.0.0.1:18480"  # nothing listens there: the commands' calls are caught before they are made


@pytest.fixture
def running_from(tmp_path: Path) -> Path:
    """A data folder whose mesh (this process stands in for its launcher) has its edge on RECORDED."""
    folder = tmp_path / "mesh"
    folder.mkdir()
    state.write_state(folder, [], {"grpc": RECORDED, "rest": f"http://{RECORDED}"}, ready=True)
    return folder


def _find(target: str | None = None, *, data_dir: Path | None = None, tls: bool = False, ca_file=None) -> Edge:
    return find_edge(target, tls=tls, ca_file=ca_file, data_dir=data_dir)


def test_the_edge_is_that_of_the_mesh_running_from_the_data_folder(running_from: Path) -> None:
    assert _find(data_dir=running_from) == Edge(RECORDED)


def test_a_named_data_folder_with_no_mesh_is_refused_rather_than_the_default_edge_called(tmp_path: Path) -> None:
    with pytest.raises(typer.BadParameter, match="no mesh is running from"):
        _find(data_dir=tmp_path)
    infra_only = tmp_path / "infra"
    infra_only.mkdir()
    state.write_state(infra_only, [], {"nats": "nats://127.0.0.1:7114"})
    with pytest.raises(typer.BadParameter, match="has no edge"):
        _find(data_dir=infra_only)


def test_with_no_mesh_and_no_folder_named_the_default_edge_is_called(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .athenaeum here: compose's edge, say
    assert _find() == Edge(DEFAULT_TARGET)


def test_an_edge_named_outright_wins_and_https_means_tls(running_from: Path, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    assert _find("edge.example.org:8443", data_dir=running_from) == Edge("edge.example.org:8443")
    assert _find("https://edge.example.org:8443/") == Edge("edge.example.org:8443", tls=True)
    assert _find("edge.example.org:8443", tls=True, ca_file=ca) == Edge("edge.example.org:8443", True, ca)
    assert _find("http://127.0.0.1:8080") == Edge("127.0.0.1:8080")
    with pytest.raises(typer.BadParameter, match="add --tls"):
        _find("127.0.0.1:8080", ca_file=ca)


def test_catalog_demo_loads_into_the_mesh_of_athenaeum_data_dir(monkeypatch, running_from: Path) -> None:
    dialled: list[Edge] = []

    def stream_import(header: str, records, *, edge: Edge, **_: object) -> int:
        dialled.append(edge)
        return 0

    monkeypatch.setattr(catalog_cli, "stream_import", stream_import)
    result = CliRunner().invoke(
        app, ["catalog", "demo", "--titles", "3", "--token", "t"], env={"ATHENAEUM_DATA_DIR": str(running_from)}
    )

    assert result.exit_code == 0, result.output
    assert dialled == [Edge(RECORDED)]


@pytest.mark.parametrize("command", [["catalog", "import", "books.csv"], ["catalog", "demo"], ["events", "tail"]])
def test_every_command_that_calls_the_edge_takes_the_data_folder_and_tls(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert all(option in result.stdout for option in ("--data-dir", "--tls", "--ca-file", "https://")), result.stdout
