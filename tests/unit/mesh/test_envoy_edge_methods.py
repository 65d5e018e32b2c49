"""The edge's method table, as generated: a 405 with Allow for a method a REST path does not take, and HEAD
turned into GET, from the google.api.http bindings of every service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mesh_helpers import loopback_topology

from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_edge_api import CORS_FILTER
from services.support.mesh.envoy_edge_headers import HEADER_CAP_FILTER, MAX_REQUEST_HEADERS_KB, POLICY
from services.support.mesh.envoy_edge_methods import (
    HEAD_FILTER,
    TRANSCODER,
    PathPattern,
    allowed_methods,
    rest_methods,
)

DESCRIPTOR = Path(__file__).resolve().parents[3] / "gen" / "descriptor" / "athenaeum.binpb"


def _hcm() -> dict[str, Any]:
    (edge, *_) = edge_config(loopback_topology(23000, DESCRIPTOR))["static_resources"]["listeners"]
    return edge["filter_chains"][0]["filters"][0]["typed_config"]


def _first_route(method: str, path: str, content_type: str = "application/json") -> dict[str, Any] | None:
    """The first route of the edge's table a REST request (before transcoding) matches, as Envoy picks it."""
    headers = {":method": method, "content-type": content_type}
    for route in _hcm()["route_config"]["virtual_hosts"][0]["routes"]:
        match = route["match"]
        if _path_matches(match, path) and all(_header_matches(m, headers) for m in match.get("headers", [])):
            return route
    return None


def _path_matches(match: dict[str, Any], path: str) -> bool:
    if "safe_regex" in match:
        return re.fullmatch(match["safe_regex"]["regex"], path) is not None
    return match["path"] == path if "path" in match else path.startswith(match["prefix"])


def _header_matches(matcher: dict[str, Any], headers: dict[str, str]) -> bool:
    value = headers.get(matcher["name"], "" if matcher.get("treat_missing_header_as_empty") else None)
    string_match = matcher.get("string_match", {})
    if value is None:
        matched = False
    elif "present_match" in matcher:
        matched = True
    elif "exact" in string_match:
        matched = value == string_match["exact"]
    elif "prefix" in string_match:
        matched = value.startswith(string_match["prefix"])
    else:
        matched = re.fullmatch(string_match["safe_regex"]["regex"], value) is not None
    return matched != bool(matcher.get("invert_match"))


def _sample_path(pattern: PathPattern) -> str:
    segments = ["0b9e5d2a-1c3f-4e6a-9d8b-7f2e1a0c4b5d" if s == "*" else s for s in pattern.segments]
    return "/" + "/".join(segments) + (f":{pattern.verb}" if pattern.verb else "")


BOUND = rest_methods()


@pytest.mark.parametrize("pattern", sorted(BOUND), ids=PathPattern.regex)
def test_every_bound_method_and_head_on_a_get_route_reach_the_transcoder(pattern: PathPattern) -> None:
    path, methods = _sample_path(pattern), BOUND[pattern]
    for method in methods:
        route = _first_route(method, path)
        assert route is None or "direct_response" not in route, (method, path, route)
    head = _first_route("HEAD", path)
    if "GET" in methods:
        assert head is not None and HEAD_FILTER in head["typed_per_filter_config"]
    else:
        assert head is not None and head["direct_response"]["status"] == 405


def test_another_method_on_a_known_path_is_405_with_allow_and_without_the_transcoder() -> None:
    route = _first_route("PUT", "/v1/books")
    assert route is not None and route["direct_response"]["status"] == 405
    assert route["response_headers_to_add"][0]["header"] == {"key": "allow", "value": "GET, HEAD, POST"}
    assert route["typed_per_filter_config"][TRANSCODER]["disabled"] is True
    renew = _first_route("GET", "/v1/loans/0b9e5d2a-1c3f-4e6a-9d8b-7f2e1a0c4b5d:renew")
    assert renew is not None and renew["response_headers_to_add"][0]["header"]["value"] == "POST"


def test_unknown_paths_grpc_calls_and_preflights_are_left_as_they_were() -> None:
    assert _first_route("PUT", "/v2/nothing") is None
    assert _first_route("OPTIONS", "/v1/books") is None  # the CORS filter answers a preflight on no direct response
    route = _first_route("PUT", "/v1/books", content_type="application/grpc")
    assert route is None


def test_a_narrower_pattern_comes_first_and_allows_the_broader_ones_methods_too() -> None:
    me, anyone = PathPattern.parse("/v1/users/me"), PathPattern.parse("/v1/{name=users/*}")
    table = allowed_methods({anyone: {"GET", "PATCH"}, me: {"POST"}})
    assert table == [(me, ["GET", "HEAD", "POST", "PATCH"]), (anyone, ["GET", "HEAD", "PATCH"])]


def test_patterns_that_share_only_some_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        allowed_methods({PathPattern.parse("/v1/{a=*}/x"): {"GET"}, PathPattern.parse("/v1/y/{b=*}"): {"POST"}})


@pytest.mark.parametrize(
    ("template", "segments", "verb", "regex"),
    [
        ("/v1/{name=loans/*}:return", ("v1", "loans", "*"), "return", "/v1/loans/[^/:]+:return"),
        ("/v1/books:search", ("v1", "books"), "search", "/v1/books:search"),
        ("/v1/{parent=users/*}/loans", ("v1", "users", "*", "loans"), "", "/v1/users/[^/:]+/loans"),
        ("/v1/{name}", ("v1", "*"), "", "/v1/[^/:]+"),
    ],
)
def test_a_template_is_read_as_the_transcoder_reads_it(template: str, segments: tuple, verb: str, regex: str) -> None:
    pattern = PathPattern.parse(template)
    assert (pattern.segments, pattern.verb, pattern.regex()) == (segments, verb, regex)


def test_the_head_filter_is_off_by_default_and_runs_before_the_transcoder() -> None:
    filters = _hcm()["http_filters"]
    names = [f["name"] for f in filters]
    assert names.index(HEAD_FILTER) < names.index(TRANSCODER)
    assert filters[names.index(HEAD_FILTER)]["disabled"] is True


def test_the_header_cap_is_checked_before_the_transcoder_copies_the_path() -> None:
    filters = _hcm()["http_filters"]
    names = [f["name"] for f in filters]
    assert names.index(HEADER_CAP_FILTER) < names.index(TRANSCODER)
    policy = filters[names.index(HEADER_CAP_FILTER)]["typed_config"]["rules"]["policies"][POLICY]
    assert policy["condition"]["call_expr"]["args"][1]["const_expr"]["int64_value"] == MAX_REQUEST_HEADERS_KB * 1024


def _cors_hcm(origins: tuple[str, ...]) -> dict[str, Any]:
    topology = loopback_topology(23000, DESCRIPTOR, cors_origins=origins)
    (edge, *_) = edge_config(topology)["static_resources"]["listeners"]
    return edge["filter_chains"][0]["filters"][0]["typed_config"]


def _first_405(hcm: dict[str, Any], method: str, path: str, origin: str | None) -> dict[str, Any]:
    headers = {":method": method, "content-type": "application/json", **({"origin": origin} if origin else {})}
    for route in hcm["route_config"]["virtual_hosts"][0]["routes"]:
        match = route["match"]
        if _path_matches(match, path) and all(_header_matches(m, headers) for m in match.get("headers", [])):
            assert route.get("direct_response", {}).get("status") == 405, route
            return {h["header"]["key"]: h["header"]["value"] for h in route["response_headers_to_add"]}
    raise AssertionError(f"no route for {method} {path}")


def test_a_405_for_an_allowed_origin_carries_the_cors_headers_the_filter_would_add() -> None:
    """The CORS filter skips a direct response: a browser on an allowed origin saw a CORS failure, not the 405."""
    origins = ("https://ui.athenaeum.test", "http://localhost:5173")
    hcm = _cors_hcm(origins)
    policy = hcm["route_config"]["virtual_hosts"][0]["typed_per_filter_config"][CORS_FILTER]
    for origin in origins:
        headers = _first_405(hcm, "PUT", "/v1/books", origin)
        assert headers["allow"] == "GET, HEAD, POST"
        assert headers["access-control-allow-origin"] == "%REQ(origin)%"
        assert headers["access-control-expose-headers"] == policy["expose_headers"]
    for origin in ("https://evil.example", "https://ui.athenaeum.test.evil.example", "http://localhost:51730", None):
        headers = _first_405(hcm, "GET", "/v1/loans/x:return", origin)
        assert headers == {"allow": "POST"}, origin
