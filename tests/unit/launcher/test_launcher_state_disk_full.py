"""A full data disk: the launcher's state file is a convenience for `status`, never a reason to stop the mesh
or to fail stopping it."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from services.support.launcher import state
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.mesh import LocalMesh
from services.support.mesh.topology import free_ports


def _disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _bare_mesh(data_dir: Path, warnings: list[str]) -> LocalMesh:
    """A mesh of no process of its own (stores elsewhere, no services, Envoys or sinks)."""
    ports = free_ports()
    topology = local_mesh_topology(data_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    return LocalMesh(
        data_dir,
        topology,
        database_url="postgresql+asyncpg://127.0.0.1:1/elsewhere",
        nats_url="nats://127.0.0.1:1",
        services=(),
        envoys=False,
        run_sinks=False,
        warn=warnings.append,
    )


def test_stopping_a_mesh_whose_state_cannot_be_written_completes_and_tells_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    mesh = _bare_mesh(tmp_path / "mesh", warnings)
    mesh.claim()
    mesh._record_state()  # written while there was room
    monkeypatch.setattr(state, "write_state", _disk_full)

    mesh._record_state()  # a change of the running mesh: the disk is full now
    mesh._record_state()
    mesh.stop()  # `up`'s `finally:` (its last state write fails too)

    assert len(warnings) == 1 and "No space left on device" in warnings[0] and "runs on" in warnings[0]
    assert not state.state_path(mesh.data_dir).exists()  # cleared: `status` says no mesh runs
    assert state.running_launcher(mesh.data_dir) is None


def test_a_second_stop_leaves_no_state_file_behind(tmp_path: Path) -> None:
    """`up` stops a mesh whose start failed twice (start's own clean-up, then its `finally:`)."""
    mesh = _bare_mesh(tmp_path / "mesh", [])
    mesh.claim()
    mesh._record_state()

    mesh.stop()
    mesh.stop()

    assert not state.state_path(mesh.data_dir).exists()


def test_a_state_write_cut_short_leaves_the_old_state_and_no_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.write_state(tmp_path, [], {"rest": "http://127.0.0.1:8080"}, ready=True)
    original = Path.write_text

    def cut_short(path: Path, text: str, *args: Any, **kwargs: Any) -> int:
        original(path, text[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", cut_short)

    with pytest.raises(OSError):
        state.write_state(tmp_path, [], {}, ready=False)

    assert sorted(path.name for path in tmp_path.iterdir()) == [state.STATE_FILE]
    assert state.read_state(tmp_path) is not None and state.read_state(tmp_path)["ready"] is True  # type: ignore[index]
