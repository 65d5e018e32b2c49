"""Starting and stopping an Envoy: ready means LIVE, a broken config fails fast, stop leaves nothing behind;
a peer is in sight (every host healthy in /clusters) only while it answers its health checks."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from services.support.launcher.envoy_process import EnvoyNotReady, start_envoy
from services.support.launcher.readiness import envoy_sees_every_host_healthy, wait_until
from services.support.mesh.envoy_common import http_connection_manager, listener

pytestmark = pytest.mark.integration


def admin_only_config(path: Path, admin_port: int) -> Path:
    path.write_text(
        yaml.safe_dump({"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}}})
    )
    return path


def test_envoy_is_live_when_started_and_gone_when_stopped(tmp_path: Path, free_port_source: Iterator[int]) -> None:
    admin_port = next(free_port_source)
    envoy = start_envoy(admin_only_config(tmp_path / "envoy.yaml", admin_port), admin_port=admin_port)
    with envoy:
        assert envoy.process.poll() is None
    assert envoy.process.poll() is not None


def test_a_broken_config_fails_fast_with_envoys_own_message(tmp_path: Path, free_port_source: Iterator[int]) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("no_such_field: 1\n")
    with pytest.raises(EnvoyNotReady, match="no_such_field"):
        start_envoy(config, admin_port=next(free_port_source), log_path=tmp_path / "envoy.log", ready_timeout=10)


# A connect-only check; a cluster nobody sends traffic to is checked at no_traffic_interval (a minute by default).
TCP_CHECK = {"healthy_threshold": 1, "no_traffic_interval": "0.2s", "tcp_health_check": {}}


def config_with_a_checked_peer(path: Path, admin_port: int, peer_port: int) -> Path:
    endpoint = {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": peer_port}}}}
    cluster = {
        "name": "mesh_peer",
        "connect_timeout": "0.25s",
        "type": "STATIC",
        "load_assignment": {"cluster_name": "mesh_peer", "endpoints": [{"lb_endpoints": [endpoint]}]},
        "health_checks": [{"timeout": "0.5s", "interval": "0.2s", "unhealthy_threshold": 1, **TCP_CHECK}],
    }
    admin_only_config(path, admin_port)
    config = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**config, "static_resources": {"clusters": [cluster]}}))
    return path


def test_a_peer_is_in_sight_while_it_answers_its_health_checks(tmp_path: Path, free_port_source: Iterator[int]) -> None:
    admin_port, peer_port = next(free_port_source), next(free_port_source)
    peer = socket.create_server(("127.0.0.1", peer_port))
    config = config_with_a_checked_peer(tmp_path / "envoy.yaml", admin_port, peer_port)
    with start_envoy(config, admin_port=admin_port):
        wait_until(lambda: envoy_sees_every_host_healthy(admin_port), timeout=10, what="the peer in sight")
        peer.close()
        wait_until(lambda: not envoy_sees_every_host_healthy(admin_port), timeout=10, what="the peer out of sight")


def config_with_a_listener(path: Path, admin_port: int, port: int) -> Path:
    """An admin and one HTTP listener on `port`, built as every Envoy of the mesh builds its TCP listeners."""
    answer = {"match": {"prefix": "/"}, "direct_response": {"status": 200}}
    manager = http_connection_manager(stat_prefix="probe", routes=[answer], http_filters=[])
    admin_only_config(path, admin_port)
    config = yaml.safe_load(path.read_text())
    config["static_resources"] = {"listeners": [listener("probe", "127.0.0.1", port, {"filters": [manager]})]}
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_second_envoy_on_a_taken_port_fails_instead_of_sharing_it(
    tmp_path: Path, free_port_source: Iterator[int]
) -> None:
    """Envoy's listeners would take SO_REUSEPORT by default: a second mesh on the same ports would start and
    take half of the first one's connections."""
    port, first_admin, second_admin = next(free_port_source), next(free_port_source), next(free_port_source)
    with start_envoy(config_with_a_listener(tmp_path / "first.yaml", first_admin, port), admin_port=first_admin):
        second = config_with_a_listener(tmp_path / "second.yaml", second_admin, port)
        with pytest.raises(EnvoyNotReady, match="Address already in use"):
            start_envoy(second, admin_port=second_admin, log_path=tmp_path / "second.log", ready_timeout=10)
