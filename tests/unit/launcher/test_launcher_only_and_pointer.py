"""`--only` refuses a name that is no service (a typo migrated nothing and exited 0, or ended in a traceback),
and an `up` that could not start leaves `down` / `status` pointing at the mesh that runs."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.support.launcher import cli, state
from services.support.launcher.processes import ProcessFailed


@pytest.fixture
def signals() -> Iterator[None]:
    """`up` installs its own SIGTERM/SIGINT handlers: the test process gets its own back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("command", [["migrate", "--only", "nosuch"], ["up", "--only", "users", "--only", "nosuch"]])
def test_an_unknown_service_in_only_is_a_usage_error(command: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, [*command, "--data-dir", str(tmp_path / "mesh")])
    assert result.exit_code == 2, result.output
    assert "unknown service 'nosuch'; known: users" in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "mesh").exists()  # refused before anything was made


class MeshThatCannotStart:
    """LocalMesh whose start meets a port the running mesh holds."""

    def __init__(self, data_dir: Path, *args: object, **kwargs: object) -> None:
        self.data_dir = data_dir

    def claim(self) -> None:
        pass

    def start(self) -> None:
        raise ProcessFailed("edge exited: cannot bind 127.0.0.1:8180: Address already in use")

    def stop(self) -> None:
        pass


def test_an_up_that_cannot_start_leaves_the_pointer_to_the_running_mesh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signals: None
) -> None:
    monkeypatch.chdir(tmp_path)
    running = tmp_path / "running"
    running.mkdir()
    (running / state.STATE_FILE).write_text('{"processes": []}')
    state.point_to(running, cli.DEFAULT_DATA_DIR)
    monkeypatch.setattr("services.support.launcher.mesh.LocalMesh", MeshThatCannotStart)

    result = CliRunner().invoke(cli.app, ["up", "--data-dir", str(tmp_path / "second")])

    assert isinstance(result.exception, ProcessFailed)
    assert state.locate(cli.DEFAULT_DATA_DIR) == running.resolve()


def test_a_stopped_mesh_gives_the_pointer_back(tmp_path: Path) -> None:
    default, first, second = tmp_path / ".athenaeum", tmp_path / "first", tmp_path / "second"
    state.point_to(first, default)
    previous = state.point_to(second, default)
    state.forget_pointer(second, default, previous)
    assert (default / state.POINTER_FILE).read_text() == str(first.resolve())
