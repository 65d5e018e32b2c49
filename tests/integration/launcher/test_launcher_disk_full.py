"""A full data disk takes down what cannot write, not the whole mesh: a sink that dies is restarted while the
launcher cannot write its own state file, and stopping still stops everything."""

from __future__ import annotations

import errno
import time
from pathlib import Path
from typing import Any

import pytest

from services.support.launcher import state
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.mesh import LocalMesh
from services.support.launcher.processes import RestartPolicy
from services.support.launcher.sink_servers import LocalSinks
from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration
QUICK = RestartPolicy(max_crashes=3, window_seconds=60, first_delay_seconds=0.05, max_delay_seconds=0.2)


def _disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_sink_that_dies_on_a_full_disk_is_restarted_and_the_mesh_stops_cleanly(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = free_ports()
    topology = local_mesh_topology(shared_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    warnings: list[str] = []
    mesh = LocalMesh(  # the sinks only: stores elsewhere, no services, no Envoys
        shared_dir,
        topology,
        database_url="postgresql+asyncpg://127.0.0.1:1/elsewhere",
        nats_url="nats://127.0.0.1:1",
        services=(),
        envoys=False,
        warn=warnings.append,
    )
    try:
        mesh.start()
        monkeypatch.setattr(state, "write_state", _disk_full)  # the data disk fills up
        sink = mesh.process(LocalSinks.MAIL)
        sink.kill()  # as the mail sink died on ENOSPC

        events: list[str] = []
        deadline = time.monotonic() + 10
        while not (sink.running and sink.restarts) and time.monotonic() < deadline:
            events += mesh.supervise(QUICK)
            time.sleep(0.02)

        assert sink.running and sink.restarts == 1, events
        mesh.wait_ready(LocalSinks.MAIL)
        assert len(warnings) == 1 and "No space left on device" in warnings[0]
    finally:
        mesh.stop()

    assert [process.name for process in mesh.processes if process.running] == []
    assert not state.state_path(mesh.data_dir).exists()
