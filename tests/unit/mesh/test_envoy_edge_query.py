"""The edge's refusals of query parameters that set what the path or body sets, or a singular field twice.

The routes are matched here as Envoy matches them once the transcoder has made a REST call gRPC: the gRPC
path exactly, then every header matcher (a full match of the regex) on the original path and query. The
regexes use nothing Python's `re` reads differently from RE2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from mesh_helpers import loopback_topology

from services.support.devtools.openapi import DocumentBuilder
from services.support.mesh import registry
from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_edge_query import REPEATED_MESSAGE, query_routes
from services.support.runtime.access import method_path, service_descriptor

DESCRIPTOR = Path(__file__).resolve().parents[3] / "gen" / "descriptor" / "athenaeum.binpb"
ROUTES = query_routes()
CATALOG = "/athenaeum.catalog.v1.CatalogService"
LOANS = "/athenaeum.loans.v1.LoansService"
_BOUND = re.compile(r"\{([A-Za-z0-9_.]+)(?:=([^}]*))?\}")


def refusal(grpc_path: str, original_path: str) -> str | None:
    """The message of the first refusing route the call meets; None when it goes on to its service."""
    for route in ROUTES:
        if route["match"]["path"] != grpc_path:
            continue
        if all(_header_matches(header, original_path) for header in route["match"]["headers"]):
            return route["direct_response"]["body"]["inline_string"]
    return None


def _header_matches(header: dict[str, Any], value: str) -> bool:
    assert header["name"] == "x-envoy-original-path"
    match = header["string_match"]
    if "contains" in match:
        matched = match["contains"] in value
    else:
        matched = re.fullmatch(match["safe_regex"]["regex"], value) is not None
    return matched != header.get("invert_match", False)


@pytest.mark.parametrize(
    ("grpc_path", "original_path"),
    [
        (f"{CATALOG}/DeleteItemType", "/v1/itemTypes/SPARE?name=itemTypes/VICTIM"),
        (f"{CATALOG}/DeleteItemType", "/v1/itemTypes/SPARE?etag=1&name=itemTypes/VICTIM"),
        (f"{CATALOG}/GetItemType", "/v1/itemTypes/DVD?name=itemTypes/REFERENCE"),
        (f"{CATALOG}/UpdateItemType", "/v1/itemTypes/SPARE?update_mask=description&item_type.name=itemTypes/BOOK"),
        (f"{CATALOG}/UpdateItemType", "/v1/itemTypes/SPARE?itemType.name=itemTypes/BOOK"),
        (f"{LOANS}/ListHolds", "/v1/users/r1/holds?parent=users/r2"),
        (f"{LOANS}/ListHolds", "/v1/users/r1/holds/?parent=users/r2"),
        (f"{LOANS}/ListHolds", "/v1/users/r1/holds//?parent=users/r2"),
    ],
)
def test_a_query_parameter_naming_the_resource_the_path_names_is_refused(grpc_path: str, original_path: str) -> None:
    assert refusal(grpc_path, original_path) is not None


@pytest.mark.parametrize(
    ("grpc_path", "original_path"),
    [
        (f"{CATALOG}/CreateItemType", "/v1/itemTypes?item_type.not_for_loan=true"),
        (f"{CATALOG}/CreateItemType", "/v1/itemTypes?request_id=x&itemType.notForLoan=true"),
        (f"{CATALOG}/UpdateItemType", "/v1/itemTypes/SPARE?update_mask=not_for_loan&item_type.not_for_loan=true"),
        (f"{LOANS}/ReturnLoan", "/v1/loans:return?barcode=B1"),
        (f"{LOANS}/ReturnLoan", "/v1/loans/L1:return?request_id=x"),
        ("/athenaeum.users.v1.UsersService/UpdateUser", "/v1/users/u1:update?update_mask=display_name"),
    ],
)
def test_a_body_field_in_the_query_string_is_refused(grpc_path: str, original_path: str) -> None:
    assert refusal(grpc_path, original_path) is not None


@pytest.mark.parametrize(
    "original_path",
    ["/v1/holds?filter=a&filter=b", "/v1/holds?page_size=1&page_size=2", "/v1/holds?page_size=1&pageSize=2",
     "/v1/holds?order_by=x&status=HOLD_STATUS_READY&orderBy=y", "/v1/users/r1/holds?filter=a&page_size=2&filter=b"],
)  # fmt: skip
def test_a_singular_query_parameter_given_twice_is_refused(original_path: str) -> None:
    assert refusal(f"{LOANS}/ListHolds", original_path) == REPEATED_MESSAGE


def test_list_parameters_pass_and_a_repeated_field_takes_several_values() -> None:
    assert refusal(f"{LOANS}/ListHolds", "/v1/holds?parent=users/r1&filter=a&page_size=2&order_by=x") is None
    assert refusal(f"{LOANS}/ListHolds", "/v1/holds/?parent=users/r1") is None
    assert refusal(f"{LOANS}/ListHolds", "/v1/users/r1/holds?page_size=2&page_token=t") is None
    assert refusal(f"{CATALOG}/SearchBooks", "/v1/books:search?facets=language&facets=subjects&query=q") is None
    assert refusal(f"{CATALOG}/UpdateItemType", "/v1/itemTypes/A?update_mask=description&request_id=r") is None
    assert refusal(f"{CATALOG}/DeleteItemType", "/v1/itemTypes/A?etag=e&request_id=r") is None
    assert refusal(f"{CATALOG}/ListBooks", "/v1/books?filter=language%3D%22ru%22") is None


def _rest_bindings() -> list[tuple[str, str]]:
    """(gRPC path, path template) of every binding of every RPC on the REST API."""
    found = []
    for spec in registry.SERVICES:
        for name in spec.grpc_services:
            for method in service_descriptor(name).methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                for binding in (rule, *rule.additional_bindings):
                    if (kind := binding.WhichOneof("pattern")) not in (None, "custom"):
                        found.append((method_path(method), getattr(binding, kind)))
    return found


def _sample(template: str) -> str:
    """A path the template matches: each variable's pattern with its wildcards filled in."""
    return _BOUND.sub(lambda match: (match.group(2) or "*").replace("*", "x1"), template)


@pytest.mark.parametrize(("grpc_path", "template"), _rest_bindings(), ids=lambda value: value.rsplit("/", 1)[-1])
def test_every_field_any_path_binds_is_refused_in_its_query_string(grpc_path: str, template: str) -> None:
    for variable in _BOUND.finditer(template):
        field_path = variable.group(1)
        assert refusal(grpc_path, f"{_sample(template)}?{field_path}=other/x2"), (template, field_path)


def _documented_query_parameters() -> list[tuple[str, str, str, bool]]:
    """(gRPC path, sample path, parameter, is repeated) of every query parameter the API reference lists."""
    descriptors = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    document = DocumentBuilder(descriptors, version="0").build()
    found = []
    for path, item in document["paths"].items():
        for operation in item.values():
            sample = re.sub(r"\{[^}]+\}", "x1", path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    repeated = parameter["schema"].get("type") == "array"
                    found.append((operation["x-grpc-method"], sample, parameter["name"], repeated))
    return found


def test_every_documented_query_parameter_passes_once_and_only_a_repeated_one_twice() -> None:
    parameters = _documented_query_parameters()
    assert len(parameters) > 50, parameters
    for grpc_path, sample, name, repeated in parameters:
        assert refusal(grpc_path, f"{sample}?{name}=v1") is None, (sample, name)
        twice = refusal(grpc_path, f"{sample}?{name}=v1&{name}=v2")
        assert (twice is None) == repeated, (sample, name)


def _grpc(match: dict[str, str]) -> bool:
    return match.get("prefix", match.get("path", "")).startswith("/athenaeum.")


def test_the_refusals_are_matched_before_the_grpc_routes_and_answered_with_a_400() -> None:
    (edge, *_) = edge_config(loopback_topology(23000, DESCRIPTOR))["static_resources"]["listeners"]
    routes = edge["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    first_grpc = next(index for index, route in enumerate(routes) if "route" in route and _grpc(route["match"]))
    refusing = [index for index, route in enumerate(routes) if route in ROUTES]
    assert len(refusing) == len(ROUTES) and max(refusing) < first_grpc
    assert {route["direct_response"]["status"] for route in ROUTES} == {400}


def test_a_call_without_a_query_string_is_let_past_before_any_regex_runs() -> None:
    # Envoy stops at a route's first header matcher that fails: a plain GET /v1/books/{id} pays a substring test.
    for route in ROUTES:
        first, *rest = route["match"]["headers"]
        assert first == {"name": "x-envoy-original-path", "string_match": {"contains": "?"}}
        assert all("safe_regex" in header["string_match"] for header in rest)
    assert refusal(f"{CATALOG}/DeleteItemType", "/v1/itemTypes/SPARE") is None
