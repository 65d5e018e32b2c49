"""What REST callers see of the edge besides transcoding: one error format and CORS.

Errors the edge makes itself (a refused token, no route, an unknown query parameter, JSON it cannot parse,
a body too large, a rate limit, no healthy upstream, a timeout) are rewritten into `google.rpc.Status`
JSON with the gRPC code of their HTTP status, so a client parses every error the same way, whoever made
it. Answers that come from a service are already Status JSON (the transcoder's convert_grpc_status) and
are not touched: local_reply_config applies to local replies only.
"""

from __future__ import annotations

from services.support.mesh.envoy_common import Config

CORS_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"
CORS_POLICY_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"
CORS_FILTER = "envoy.filters.http.cors"
CORS_MAX_AGE_SECONDS = 600
CORS_EXPOSE_HEADERS = "grpc-status, grpc-message, x-request-id, retry-after"

# gRPC code (google.rpc.Code) for each HTTP status the edge can answer by itself.
LOCAL_REPLY_CODES = {
    400: 3,  # INVALID_ARGUMENT: unknown query parameter, malformed JSON, a value of the wrong JSON type
    401: 16,  # UNAUTHENTICATED: a token that does not verify
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND: no route
    405: 12,  # UNIMPLEMENTED
    408: 4,  # DEADLINE_EXCEEDED: the client was too slow to send its request
    413: 8,  # RESOURCE_EXHAUSTED: body over the limit
    429: 8,  # RESOURCE_EXHAUSTED: rate limited
    431: 8,  # RESOURCE_EXHAUSTED: headers over the limit
    499: 1,  # CANCELLED
    500: 13,  # INTERNAL
    501: 12,  # UNIMPLEMENTED
    502: 14,  # UNAVAILABLE: the upstream answered garbage
    503: 14,  # UNAVAILABLE: no healthy upstream, connection refused, overloaded
    504: 4,  # DEADLINE_EXCEEDED: upstream timeout
}
UNKNOWN_CODE = 2
UNAUTHENTICATED_CODE = 16


def _status_body(code: int) -> Config:
    """A google.rpc.Status; %LOCAL_REPLY_BODY% is Envoy's own one-line reason ("Jwt is expired")."""
    return {"json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%", "details": []}}


def _status_is(op: str, value: int, key: str) -> Config:
    return {"status_code_filter": {"comparison": {"op": op, "value": {"default_value": value, "runtime_key": key}}}}


def _not_grpc() -> Config:
    """gRPC callers get a local reply as grpc-status / grpc-message: leave those alone.

    A REST request the transcoder has already turned into gRPC (its content-type is application/grpc by
    then) still counts as REST: the transcoder kept its original path in x-envoy-original-path.
    """
    not_grpc = {
        "name": "content-type",
        "string_match": {"prefix": "application/grpc"},
        "invert_match": True,
        "treat_missing_header_as_empty": True,  # else a request without content-type would not match
    }
    transcoded = {"name": "x-envoy-original-path", "present_match": True}
    return {
        "or_filter": {"filters": [{"header_filter": {"header": not_grpc}}, {"header_filter": {"header": transcoded}}]}
    }


def _when(status_filter: Config) -> Config:
    return {"and_filter": {"filters": [status_filter, _not_grpc()]}}


def json_local_replies() -> Config:
    """local_reply_config: every local error answered as google.rpc.Status JSON with its gRPC code.

    jwt_authn answers a token of a foreign audience with 403; a bad token is a 401 like any other, so a
    local 403 becomes 401. It is the edge's only source of a local 403: a service's PERMISSION_DENIED (a
    reader calling a librarian RPC) is an upstream answer and stays 403.
    """
    token_refused = [
        {
            "filter": _when(_status_is("EQ", 403, "edge.token_refused")),
            "status_code": 401,
            "body_format_override": _status_body(UNAUTHENTICATED_CODE),
        },
        # A gRPC caller gets UNAUTHENTICATED from the status alone.
        {"filter": _status_is("EQ", 403, "edge.token_refused_grpc"), "status_code": 401},
    ]
    by_status = [
        {
            "filter": _when(_status_is("EQ", status, f"edge.local_reply_{status}")),
            "body_format_override": _status_body(code),
        }
        for status, code in LOCAL_REPLY_CODES.items()
        if status != 403
    ]
    any_other_error = {
        "filter": _when(_status_is("GE", 400, "edge.local_reply_other")),
        "body_format_override": _status_body(UNKNOWN_CODE),
    }
    return {"mappers": [*token_refused, *by_status, any_other_error]}


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
