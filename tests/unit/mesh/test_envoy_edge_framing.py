"""The edge's check of unary gRPC calls, as generated: on the unary routes only, last before the router, with
room for the largest message a service takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesh_helpers import loopback_topology

from services.events.domain.rules import MAX_BATCH_READ_BYTES
from services.support.mesh import registry
from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_edge_framing import FRAMING_FILTER

DESCRIPTOR = Path(__file__).resolve().parents[3] / "gen" / "descriptor" / "athenaeum.binpb"
GRPC_MESSAGE_PREFIX = 5


def _hcm() -> dict[str, Any]:
    (edge, *_) = edge_config(loopback_topology(22100, DESCRIPTOR))["static_resources"]["listeners"]
    return edge["filter_chains"][0]["filters"][0]["typed_config"]


def test_the_check_is_off_by_default_and_runs_last_before_the_router() -> None:
    *filters, router = _hcm()["http_filters"]
    assert (filters[-1]["name"], router["name"]) == (FRAMING_FILTER, "envoy.filters.http.router")
    assert filters[-1]["disabled"] is True


def test_every_unary_route_and_watch_waits_for_its_request_and_no_client_stream_does() -> None:
    routes = _hcm()["route_config"]["virtual_hosts"][0]["routes"]
    checked = [r["match"] for r in routes if FRAMING_FILTER in r.get("typed_per_filter_config", {})]
    prefixes = {f"/{name}/" for spec in registry.SERVICES for name in spec.grpc_services}
    assert {m["prefix"] for m in checked if "prefix" in m} == prefixes
    assert {m["path"] for m in checked if "path" in m} == {"/athenaeum.events.v1.EventsService/WatchEvents"}
    client_streams = {
        "/athenaeum.events.v1.EventsService/StreamRecordEvents",
        "/athenaeum.catalog.v1.CatalogService/ImportBooks",
    }
    routed = {r["match"].get("path") for r in routes}
    assert client_streams <= routed and not client_streams & {m.get("path") for m in checked}


def test_the_edge_holds_of_a_call_what_its_service_takes_and_no_more() -> None:
    routes = _hcm()["route_config"]["virtual_hosts"][0]["routes"]
    limits = {
        r["match"].get("prefix") or r["match"]["path"]: r["per_request_buffer_limit_bytes"]
        for r in routes
        if FRAMING_FILTER in r.get("typed_per_filter_config", {})
    }
    assert limits["/athenaeum.catalog.v1.CatalogService/"] == 4 * 1024 * 1024 + GRPC_MESSAGE_PREFIX
    events = MAX_BATCH_READ_BYTES + GRPC_MESSAGE_PREFIX  # the events service's own cap (events/main.py)
    assert limits["/athenaeum.events.v1.EventsService/"] == limits["/athenaeum.events.v1.EventsService/WatchEvents"]
    assert limits["/athenaeum.events.v1.EventsService/"] == events
