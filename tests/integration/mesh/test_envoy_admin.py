"""An Envoy of the local mesh: its admin port serves only pages that read; the admin that can stop, drain or
reconfigure it is on a socket only the mesh's account may open."""

from __future__ import annotations

import stat

import httpx
import pytest

pytestmark = pytest.mark.integration
CHANGES = ("/quitquitquit", "/logging?level=debug", "/healthcheck/fail", "/drain_listeners", "/runtime_modify?a=b")


def test_the_admin_port_only_reads_and_the_whole_admin_is_an_owner_only_socket(mesh_envoy, topology) -> None:
    mesh_envoy("catalog")
    placement = topology.placement("catalog")
    pages = f"http://127.0.0.1:{placement.admin_port}"

    assert httpx.get(f"{pages}/ready", timeout=5).text.strip() == "LIVE"
    assert "cluster_manager" in httpx.get(f"{pages}/stats", timeout=5).text
    assert [httpx.post(f"{pages}{path}", timeout=5).status_code for path in CHANGES] == [404] * len(CHANGES)
    assert httpx.get(f"{pages}/ready", timeout=5).text.strip() == "LIVE"  # nothing was stopped or drained

    assert placement.admin_socket is not None
    assert stat.S_IMODE(placement.admin_socket.stat().st_mode) == 0o600
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(placement.admin_socket)), timeout=5) as owner:
        assert owner.get("http://envoy/config_dump").status_code == 200
