"""What REST callers see of the edge besides transcoding and its errors (envoy_edge_errors): CORS."""

from __future__ import annotations

from services.support.mesh.envoy_common import Config

CORS_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"
CORS_POLICY_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"
CORS_FILTER = "envoy.filters.http.cors"
CORS_MAX_AGE_SECONDS = 600
CORS_EXPOSE_HEADERS = "grpc-status, grpc-message, x-request-id, retry-after"

CORS_CLUSTER = "edge_cors"


def cors_route() -> Config:
    """The last route, for every request that is not gRPC.

    The CORS filter runs first, before the transcoder turns a REST path into a gRPC one, and finds its
    policy on the route the request matches then: a REST path matches no gRPC route, so it matches this
    one. An allowed preflight is answered by the filter; any other request the transcoder either rewrites
    (and it is routed again, to its service) or refuses (404) before routing, so this route's cluster,
    which has no endpoints, is never reached. gRPC calls to unknown services still find no route.
    """
    grpc = {"name": "content-type", "string_match": {"prefix": "application/grpc"}, "invert_match": True}
    return {
        "match": {"prefix": "/", "headers": [{**grpc, "treat_missing_header_as_empty": True}]},
        "route": {"cluster": CORS_CLUSTER},
    }


def cors_cluster() -> Config:
    return {
        "name": CORS_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": CORS_CLUSTER, "endpoints": []},
    }


def cors_filter() -> Config:
    """The CORS filter; first in the chain, so a preflight is answered before the token or route checks."""
    return {"name": CORS_FILTER, "typed_config": {"@type": CORS_TYPE}}


def cors_policy(origins: tuple[str, ...]) -> Config:
    """The virtual host's CORS policy: exactly these origins, bearer tokens (no cookies), gRPC-Web headers."""
    return {
        CORS_FILTER: {
            "@type": CORS_POLICY_TYPE,
            "allow_origin_string_match": [{"exact": origin} for origin in origins],
            "allow_methods": "GET, POST, PATCH, PUT, DELETE, OPTIONS",
            "allow_headers": "authorization, content-type, x-request-id, grpc-timeout, x-grpc-web, x-user-agent",
            "expose_headers": CORS_EXPOSE_HEADERS,
            "max_age": str(CORS_MAX_AGE_SECONDS),
            "allow_credentials": False,
        }
    }
