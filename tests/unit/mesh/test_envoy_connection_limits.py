"""A flood of idle connections from a local account cannot take an Envoy off the mesh: each public listener
closes what never starts its TLS handshake or its request, and may hold only part of the process's cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mesh_helpers import loopback_topology

from services.support.mesh import edge_tls, registry
from services.support.mesh.envoy_common import MAX_DOWNSTREAM_CONNECTIONS
from services.support.mesh.envoy_connections import FIRST_BYTES_SECONDS, HANDSHAKE_SECONDS, MAX_LISTENER_CONNECTIONS
from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_sidecar import sidecar_config

TOPOLOGY = loopback_topology(21000)


def listener_named(config: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [item for item in config["static_resources"]["listeners"] if item["name"] == name]
    return found


def connection_limits(config: dict[str, Any]) -> dict[str, int]:
    """The runtime's per-listener connection limits (envoy.resource_limits.listener.<name>.connection_limit)."""
    limits: dict[str, int] = {}
    for layer in config["layered_runtime"]["layers"]:
        resource_limits = layer.get("static_layer", {}).get("envoy", {}).get("resource_limits", {})
        for name, values in resource_limits.get("listener", {}).items():
            limits[name] = values["connection_limit"]
    return limits


def test_the_limit_of_one_listener_leaves_the_others_a_share_of_the_process_cap() -> None:
    assert 0 < MAX_LISTENER_CONNECTIONS <= MAX_DOWNSTREAM_CONNECTIONS - 500


@pytest.mark.parametrize("service", [spec.name for spec in registry.SERVICES])
def test_a_sidecar_closes_a_connection_that_never_finishes_its_tls_handshake(service: str) -> None:
    inbound = listener_named(sidecar_config(service, TOPOLOGY), "inbound")

    (chain,) = inbound["filter_chains"]
    assert chain["transport_socket_connect_timeout"] == f"{HANDSHAKE_SECONDS}s"
    assert HANDSHAKE_SECONDS <= 10


@pytest.mark.parametrize("service", [spec.name for spec in registry.SERVICES])
def test_a_sidecars_inbound_listener_may_not_take_the_whole_cap(service: str) -> None:
    config = sidecar_config(service, TOPOLOGY)

    assert connection_limits(config) == {"inbound": MAX_LISTENER_CONNECTIONS}


def test_the_edge_closes_a_connection_that_sends_no_request_in_time() -> None:
    edge = listener_named(edge_config(TOPOLOGY), "edge")

    assert [item["name"] for item in edge["listener_filters"]] == ["envoy.filters.listener.http_inspector"]
    assert edge["listener_filters_timeout"] == f"{FIRST_BYTES_SECONDS}s"
    assert edge["continue_on_listener_filters_timeout"] is False
    assert FIRST_BYTES_SECONDS <= 10


def test_the_edge_listener_may_not_take_the_whole_cap_and_keeps_its_other_runtime_settings() -> None:
    config = edge_config(TOPOLOGY)

    assert connection_limits(config) == {"edge": MAX_LISTENER_CONNECTIONS}
    assert any("re2" in layer.get("static_layer", {}) for layer in config["layered_runtime"]["layers"])


def test_the_tls_front_closes_a_connection_that_never_finishes_its_handshake() -> None:
    config = edge_tls.edge_tls_config(cert=Path("cert.pem"), key=Path("key.pem"))

    (chain,) = listener_named(config, "https")["filter_chains"]
    assert chain["transport_socket_connect_timeout"] == f"{HANDSHAKE_SECONDS}s"
    assert connection_limits(config) == {"https": MAX_LISTENER_CONNECTIONS}
