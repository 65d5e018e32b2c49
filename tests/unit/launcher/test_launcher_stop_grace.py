"""A service stopped by the launcher (`restart`, `down`, Ctrl-C) gets its SIGTERM drain and its closers: the
launcher SIGKILLed it after 5 s while the service drained for 10."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from services.support.launcher import components
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.processes import ProcessSpec, Supervisor
from services.support.mesh.topology import sequential_ports
from services.support.runtime.settings import BaseServiceSettings

DRAIN = BaseServiceSettings.model_fields["shutdown_grace_seconds"].default

# Finishes its work 6 s after SIGTERM (more than the old 5 s), then says so.
SLOW_TO_STOP = """
import signal, sys, time
def stop(*_):
    time.sleep(6)
    open(sys.argv[1], "w").write("closed")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[2], "w").write("up")
while True:
    time.sleep(0.1)
"""


def service(tmp_path: Path, **env: str) -> ProcessSpec:
    topology = local_mesh_topology(tmp_path, ports=sequential_ports(7100), edge_port=8080, edge_admin_port=9901)
    return components.service_spec("loans", topology, database_url="", nats_url="", extra_env=env)


def test_the_launcher_waits_longer_than_a_service_drains(tmp_path: Path) -> None:
    assert components.DRAIN_SECONDS == DRAIN
    assert service(tmp_path).stop_grace > DRAIN
    assert service(tmp_path, ATHENAEUM_SHUTDOWN_GRACE_SECONDS="30").stop_grace > 30


def test_a_process_is_killed_only_after_its_own_grace(tmp_path: Path) -> None:
    closed, up = tmp_path / "closed", tmp_path / "up"
    argv = [sys.executable, "-c", SLOW_TO_STOP, str(closed), str(up)]
    with Supervisor(tmp_path / "logs") as supervisor:
        process = supervisor.start(ProcessSpec(name="slow", argv=argv, stop_grace=12.0))
        deadline = time.monotonic() + 30
        while not up.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.stop()
    assert closed.read_text() == "closed"
