"""The edge's token handling: strip client claims, verify with the users JWKS, forward verified claims."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.support.mesh.envoy import edge_config
from services.support.mesh.envoy_edge_guard import USER_HEADER
from services.support.mesh.envoy_edge_headers import header_cap_replies
from services.support.mesh.envoy_request_ids import CLIENT_REQUEST_ID_HEADER
from services.support.mesh.topology import local_topology, sequential_ports
from services.support.runtime.identity import (
    ACCESS_TOKEN_AUDIENCE,
    ACCESS_TOKEN_ISSUER,
    CLAIMS_HEADER,
    CLIENT_ADDRESS_HEADER,
)


def _edge() -> tuple[dict[str, Any], dict[str, Any], int]:
    ports = sequential_ports(30000)
    topology = local_topology(
        ports=ports,
        socket_dir=Path("run"),
        edge_port=next(ports),
        edge_admin_port=next(ports),
        cert_dir=Path("certs"),
        descriptor_path=Path("d"),
    )
    config = edge_config(topology)
    (listener,) = (found for found in config["static_resources"]["listeners"] if found["name"] == "edge")
    return config, listener["filter_chains"][0]["filters"][0]["typed_config"], topology.edge_port


def _filters(hcm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f.get("typed_config", {}) for f in hcm["http_filters"]}


def test_client_claims_are_stripped_before_the_token_is_verified_and_before_transcoding() -> None:
    _, hcm, _ = _edge()
    names = [f["name"] for f in hcm["http_filters"]]
    assert names.index("envoy.filters.http.header_mutation") < names.index("envoy.filters.http.jwt_authn")
    assert names.index("envoy.filters.http.jwt_authn") < names.index("envoy.filters.http.grpc_json_transcoder")
    mutation = _filters(hcm)["envoy.filters.http.header_mutation"]
    removed = [{"remove": CLAIMS_HEADER}, {"remove": USER_HEADER}, {"remove": CLIENT_ADDRESS_HEADER}]
    set_aside = [{"remove": CLIENT_REQUEST_ID_HEADER}]  # the client's x-request-id, once checked (envoy_request_ids)
    assert mutation["mutations"]["request_mutations"] == removed + set_aside


def test_tokens_are_optional_but_must_verify_when_present() -> None:
    _, hcm, _ = _edge()
    jwt_authn = _filters(hcm)["envoy.filters.http.jwt_authn"]
    (rule,) = jwt_authn["rules"]
    assert rule["match"] == {"prefix": "/"}
    # allow_missing (not allow_missing_or_failed): no token passes, a bad token is refused.
    assert rule["requires"]["requires_any"]["requirements"] == [{"provider_name": "athenaeum"}, {"allow_missing": {}}]
    provider = jwt_authn["providers"]["athenaeum"]
    assert provider["issuer"] == ACCESS_TOKEN_ISSUER and provider["audiences"] == [ACCESS_TOKEN_AUDIENCE]
    assert provider["forward"] is False and provider["forward_payload_header"] == CLAIMS_HEADER


def test_the_edge_fetches_the_jwks_from_its_own_public_route() -> None:
    config, hcm, edge_port = _edge()
    remote = _filters(hcm)["envoy.filters.http.jwt_authn"]["providers"]["athenaeum"]["remote_jwks"]
    assert remote["http_uri"]["uri"] == f"http://127.0.0.1:{edge_port}/.well-known/jwks.json"
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    endpoint = clusters[remote["http_uri"]["cluster"]]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    assert endpoint["endpoint"]["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": edge_port}


def _statuses(tree: object) -> set[int]:
    """The HTTP statuses a local-reply mapper's filter compares with, at any depth."""
    if isinstance(tree, dict):
        if "status_code_filter" in tree:
            return {tree["status_code_filter"]["comparison"]["value"]["default_value"]}
        return set().union(*(_statuses(value) for value in tree.values()))
    if isinstance(tree, list):
        return set().union(*(_statuses(value) for value in tree))
    return set()


def test_a_refused_token_is_always_a_401() -> None:
    _, hcm, _ = _edge()
    # After the header cap's own 403 (the first mapper that matches wins), every mapper of a local 403 -- a
    # token for another audience, for REST and gRPC callers -- answers 401.
    mappers = hcm["local_reply_config"]["mappers"][len(header_cap_replies()) :]
    refusing = [mapper for mapper in mappers if 403 in _statuses(mapper["filter"])]
    assert len(refusing) >= 2 and all(mapper["status_code"] == 401 for mapper in refusing)
    # The last two take any local 403 (REST, then gRPC) whatever refused it.
    assert _statuses(refusing[-1]["filter"]) == _statuses(refusing[-2]["filter"]) == {403}
