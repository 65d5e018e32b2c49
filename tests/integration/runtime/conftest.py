"""A NATS server a test may kill and restart (the session's is shared and must keep running)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.support.launcher.nats import LocalNats


@pytest.fixture
def own_nats(launcher_dir: Path, infra_supervisor, free_port_source: Iterator[int]) -> Iterator[LocalNats]:
    name = f"nats-own-{time.monotonic_ns()}"
    server = LocalNats(launcher_dir / name, next(free_port_source), next(free_port_source), infra_supervisor, name=name)
    server.start()
    yield server
    server.stop()


def kill_nats(supervisor, server: LocalNats) -> None:
    """kill -9: no flush, no goodbye."""
    supervisor.process(server.name).kill()


def start_nats_again(supervisor, server: LocalNats) -> None:
    """The same server again (same store, same port), ready when JetStream is healthy."""
    supervisor.process(server.name).start()
    server.wait_ready()
