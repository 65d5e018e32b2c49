"""The ports tests and benches start servers on: free, never the same twice, and never one the kernel may give
an outgoing connection meanwhile (its ephemeral range)."""

from __future__ import annotations

import itertools
import socket
from pathlib import Path

import pytest

from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration


def test_ports_are_outside_the_ephemeral_range_distinct_and_bindable() -> None:
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = list(itertools.islice(free_ports(), 50)) + list(itertools.islice(free_ports(), 50))
    assert len(set(ports)) == 100  # two sources never hand out one port twice
    assert not any(low <= port <= high for port in ports)
    for port in ports[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
