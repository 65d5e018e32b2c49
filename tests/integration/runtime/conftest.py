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
