"""Who a caller is at the edge: access tokens verified against the users service's key set (fetched through
the edge itself), and the identity headers only the edge may set, dropped from what a client sends."""

from __future__ import annotations

from services.support.mesh.envoy_common import Config, socket_address
from services.support.mesh.envoy_edge_guard import USER_HEADER
from services.support.mesh.envoy_request_ids import CLIENT_REQUEST_ID_HEADER
from services.support.mesh.topology import Topology
from services.support.runtime.identity import (
    ACCESS_TOKEN_AUDIENCE,
    ACCESS_TOKEN_ISSUER,
    CLAIMS_HEADER,
    CLIENT_ADDRESS_HEADER,
)

JWT_AUTHN_TYPE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
HEADER_MUTATION_TYPE = "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"
JWT_PROVIDER = "athenaeum"
JWKS_PATH = "/.well-known/jwks.json"
JWKS_CLUSTER = "edge_jwks"
JWKS_CACHE_SECONDS = 60
"""How long the edge trusts its copy of the key set; the users service publishes a new key this long
(and more) before it signs with it, so a rotation never meets a stale cache."""
BEARER_SPELLINGS = ("Bearer", "bearer", "BEARER")
"""How clients spell the scheme (Envoy matches a prefix exactly; the scheme itself is case-insensitive)."""
EDGE_SET_HEADERS = (CLAIMS_HEADER, USER_HEADER, CLIENT_ADDRESS_HEADER)
"""Headers only the edge itself may set: whatever a client sends under these names is dropped."""


def strip_identity_headers_filter() -> Config:
    """Only jwt_authn may set the claims and user headers: a copy from the client would be a forged identity.
    The client's request id set aside (envoy_request_ids) is dropped here too, after it was put back."""
    return {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": HEADER_MUTATION_TYPE,
            "mutations": {
                "request_mutations": [{"remove": header} for header in (*EDGE_SET_HEADERS, CLIENT_REQUEST_ID_HEADER)]
            },
        },
    }


def jwt_authn_filter(topology: Topology) -> Config:
    """Verify `Authorization: Bearer` access tokens against the users service's JWKS.

    A token is optional (public RPCs; the services' policy refuses anonymous calls to the others), but
    one that is present must verify: expired, tampered, wrongly signed, `alg: none` or foreign-audience
    tokens end here with 401 on every route.
    """
    provider = {
        "issuer": ACCESS_TOKEN_ISSUER,
        "audiences": [ACCESS_TOKEN_AUDIENCE],
        "remote_jwks": {
            "http_uri": {
                "uri": f"http://127.0.0.1:{topology.edge_port}{JWKS_PATH}",
                "cluster": JWKS_CLUSTER,
                "timeout": "2s",
            },
            "cache_duration": f"{JWKS_CACHE_SECONDS}s",
            # Fetch at start-up and on expiry rather than on the first request; retry a failed fetch soon
            # (the users service may still be starting).
            "async_fetch": {"failed_refetch_duration": "1s"},
        },
        # The scheme's name is case-insensitive (RFC 9110 11.1); `bearer …` was taken for no token at all.
        "from_headers": [{"name": "authorization", "value_prefix": f"{scheme} "} for scheme in BEARER_SPELLINGS],
        "forward": False,  # services get the verified claims, never the bearer token itself
        "forward_payload_header": CLAIMS_HEADER,
        "claim_to_headers": [{"header_name": USER_HEADER, "claim_name": "sub"}],  # the per-user rate limits' key
        "clock_skew_seconds": 30,
    }
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": JWT_AUTHN_TYPE,
            "providers": {JWT_PROVIDER: provider},
            "rules": [
                {
                    "match": {"prefix": "/"},
                    "requires": {
                        "requires_any": {"requirements": [{"provider_name": JWT_PROVIDER}, {"allow_missing": {}}]}
                    },
                }
            ],
        },
    }


def jwks_cluster(topology: Topology) -> Config:
    """The edge fetches the key set from itself: GET /.well-known/jwks.json is transcoded to
    AuthService.GetJwks and reaches the users service over mTLS like any public call (works offline and
    in containers, no extra port)."""
    return {
        "name": JWKS_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": JWKS_CLUSTER,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": socket_address("127.0.0.1", topology.edge_port)}}]}
            ],
        },
    }
