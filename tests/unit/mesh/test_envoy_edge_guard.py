"""The edge's caps and rate limits, as generated: where each filter sits and which requests each class counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mesh_helpers import loopback_topology

from services.support.mesh import registry
from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_edge_guard import (
    AUTH,
    BUFFER_FILTER,
    CLASS_KEY,
    MAX_REQUEST_BODY_BYTES,
    RATE_LIMIT_FILTER,
    READ,
    WRITE,
    route_classes,
)
from services.support.mesh.envoy_edge_headers import (
    COUNT_POLICY,
    DECODED_HEADERS_KB,
    HEADER_CAP_FILTER,
    HEADERS_THE_EDGE_ADDS,
    MAX_REQUEST_HEADERS,
)
from services.support.mesh.envoy_sidecar import sidecar_config
from services.support.mesh.topology import Topology

DESCRIPTOR = Path(__file__).resolve().parents[3] / "gen" / "descriptor" / "athenaeum.binpb"


def _topology(**changes: Any) -> Topology:
    return loopback_topology(22000, DESCRIPTOR, **changes)


def _hcm(topology: Topology) -> dict[str, Any]:
    (edge, *_) = edge_config(topology)["static_resources"]["listeners"]
    return edge["filter_chains"][0]["filters"][0]["typed_config"]


def _filters(hcm: dict[str, Any]) -> list[str]:
    return [f["name"] for f in hcm["http_filters"]]


def test_a_rest_body_is_capped_before_transcoding_and_requests_are_counted_after() -> None:
    hcm = _hcm(_topology())
    names = _filters(hcm)
    transcoder = names.index("envoy.filters.http.grpc_json_transcoder")
    assert names.index(BUFFER_FILTER) < transcoder < names.index(RATE_LIMIT_FILTER)
    (buffer,) = [f for f in hcm["http_filters"] if f["name"] == BUFFER_FILTER]
    assert buffer["typed_config"]["max_request_bytes"] == MAX_REQUEST_BODY_BYTES
    assert hcm["max_request_headers_kb"] == DECODED_HEADERS_KB  # decoded, then capped by the header cap filter
    assert hcm["use_remote_address"] is True and hcm["xff_num_trusted_hops"] == 0


def test_grpc_routes_stream_unbuffered_and_carry_the_rate_limits_web_routes_do_neither() -> None:
    routes = _hcm(_topology(web_root=Path("web")))["route_config"]["virtual_hosts"][0]["routes"]
    grpc_routes = [r for r in routes if r["match"].get("prefix", "").endswith("/") and "route" in r]
    assert grpc_routes
    for route in grpc_routes:
        per_filter = route["typed_per_filter_config"]
        assert per_filter[BUFFER_FILTER]["disabled"] is True
        assert per_filter[RATE_LIMIT_FILTER]["rate_limited_as_resource_exhausted"] is True
    for route in routes:
        if "direct_response" in route:
            assert RATE_LIMIT_FILTER not in route.get("typed_per_filter_config", {})


def test_a_topology_without_rate_limits_has_no_rate_limit_filter() -> None:
    assert RATE_LIMIT_FILTER not in _filters(_hcm(_topology(rate_limits=None)))


def _class_regexes() -> dict[str, re.Pattern[str]]:
    routes = _hcm(_topology())["route_config"]["virtual_hosts"][0]["routes"]
    config = next(r for r in routes if "typed_per_filter_config" in r)["typed_per_filter_config"][RATE_LIMIT_FILTER]
    found = {}
    for rate_limit in config["rate_limits"]:
        match = rate_limit["actions"][0]["header_value_match"]
        assert match["descriptor_key"] == CLASS_KEY
        found[match["descriptor_value"]] = re.compile(match["headers"][0]["string_match"]["safe_regex"]["regex"])
    return found


@pytest.mark.parametrize("route_class", [AUTH, WRITE, READ])
def test_each_class_counts_exactly_its_own_methods(route_class: str) -> None:
    regexes = _class_regexes()
    for name, paths in route_classes().items():
        for path in paths:
            assert bool(regexes[route_class].fullmatch(path)) == (name == route_class), (route_class, path)


def test_health_and_reflection_are_reads() -> None:
    regexes = _class_regexes()
    assert regexes[READ].fullmatch("/grpc.health.v1.Health/Check")
    assert not regexes[WRITE].fullmatch("/grpc.health.v1.Health/Check")


def test_too_many_headers_are_refused_by_the_cap_filter_well_below_the_codecs_and_the_sidecars_limits() -> None:
    """Over the codec's count an HTTP/2 call is reset; a sidecar's reset was a retryable 503 UNAVAILABLE."""
    topology = _topology()
    hcm = _hcm(topology)
    (cap,) = [f for f in hcm["http_filters"] if f["name"] == HEADER_CAP_FILTER]
    condition = cap["typed_config"]["rules"]["policies"][COUNT_POLICY]["condition"]["call_expr"]
    counted, limit = condition["args"]
    assert condition["function"] == "_>_" and counted["call_expr"]["function"] == "size"
    assert counted["call_expr"]["args"][0]["select_expr"]["field"] == "headers"
    assert limit["const_expr"]["int64_value"] == MAX_REQUEST_HEADERS + HEADERS_THE_EDGE_ADDS
    codec = hcm["common_http_protocol_options"]
    assert codec["max_headers_count"] > 2 * limit["const_expr"]["int64_value"]
    assert codec["idle_timeout"]  # kept alongside
    for spec in registry.SERVICES:
        (inbound, *_) = sidecar_config(spec.name, topology)["static_resources"]["listeners"]
        assert inbound["name"] == "inbound"
        sidecar = inbound["filter_chains"][0]["filters"][0]["typed_config"]["common_http_protocol_options"]
        # the edge adds claims, the user, the client address, the transcoder's and router's headers after the cap
        assert sidecar["max_headers_count"] >= limit["const_expr"]["int64_value"] + 50
