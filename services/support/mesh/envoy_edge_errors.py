"""Errors the edge answers by itself, in the shape of the services' own (AIP-193): a `google.rpc.Status` with
the gRPC code of the HTTP status and an ErrorInfo whose `reason` tells the causes apart (a wrong JSON type,
a refused token, a rate limit…), with a RetryInfo where a retry is advised.

REST callers get the Status as JSON, its message Envoy's own one-line reason ("Jwt is expired",
"book.title: invalid value 5 for type TYPE_STRING"). gRPC callers get it in grpc-status-details-bin, for
the refusals a gRPC call can meet at the edge (a token, a rate limit, the header cap): there the message is
fixed, because the Status inside must carry the call's own grpc-message (grpcio-status's `from_call`
refuses details whose code or message differ from the call's). Answers that come from a service are
already a Status (the transcoder's convert_grpc_status) and are not touched: local_reply_config applies to
local replies only, and its mappers are evaluated only for those, so they cost a request nothing.
"""

from __future__ import annotations

import base64

from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from services.support.mesh import registry
from services.support.mesh.envoy_common import Config
from services.support.runtime.status import DOMAIN

ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
STATUS_DETAILS_HEADER = "grpc-status-details-bin"
CEL_FILTER_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"
RATE_LIMIT_RETRY_AFTER_SECONDS = 1
"""Every bucket of the local rate limit refills at least once a second: its Retry-After, and RetryInfo."""

# gRPC code (google.rpc.Code) and ErrorInfo.reason for each HTTP status the edge can answer by itself.
LOCAL_REPLIES = {
    400: (3, "MALFORMED_REQUEST"),  # INVALID_ARGUMENT: unknown query parameter, bad JSON, a wrong JSON type
    401: (16, "SESSION_REFUSED"),  # UNAUTHENTICATED: the web session's cookie refused (a token: token_replies)
    404: (5, "NO_SUCH_ROUTE"),  # NOT_FOUND: no route
    405: (12, "METHOD_NOT_ALLOWED"),  # UNIMPLEMENTED
    408: (4, "REQUEST_TIMEOUT"),  # DEADLINE_EXCEEDED: the client was too slow to send its request
    413: (8, "REQUEST_TOO_LARGE"),  # RESOURCE_EXHAUSTED: body over the limit
    429: (8, "RATE_LIMITED"),  # RESOURCE_EXHAUSTED: rate limited
    431: (8, "HEADERS_TOO_LARGE"),  # RESOURCE_EXHAUSTED: headers over the limit
    499: (1, "CLIENT_CLOSED"),  # CANCELLED
    500: (13, "EDGE_INTERNAL"),  # INTERNAL
    501: (12, "NOT_IMPLEMENTED"),  # UNIMPLEMENTED
    502: (14, "UPSTREAM_MALFORMED"),  # UNAVAILABLE: the upstream answered garbage
    503: (14, "UPSTREAM_UNAVAILABLE"),  # UNAVAILABLE: no healthy upstream, connection refused, overloaded
    504: (4, "UPSTREAM_TIMEOUT"),  # DEADLINE_EXCEEDED: upstream timeout
}
UNKNOWN = (2, "EDGE_ERROR")
UNAUTHENTICATED = 16
RESOURCE_EXHAUSTED = 8
TOKEN_EXPIRED = "TOKEN_EXPIRED"
RETRY_AFTER = {429: RATE_LIMIT_RETRY_AFTER_SECONDS}
GRPC_TOKEN_MESSAGES = {
    TOKEN_EXPIRED: "the access token has expired: refresh it",
    "TOKEN_INVALID": "the access token was refused (malformed, not signed by this library, or for another audience)",
}
GRPC_RATE_LIMITED = f"too many calls: retry after {RATE_LIMIT_RETRY_AFTER_SECONDS} s"
UPSTREAM_FAILURES = {
    502: "the {service} answered something that is not gRPC",
    503: "the {service} is unavailable for a moment; retry later",
    504: "the {service} did not answer in time",
}
"""What a caller is told when a service (at the edge: its sidecar) cannot be reached or does not answer, in
place of Envoy's own wording ("upstream connect error or disconnect/reset before headers. retried and the
latest reset reason: remote connection failure", a TLS error's text), which told a caller how the mesh is
built and said neither which service nor when to retry."""
UPSTREAM_RETRY_AFTER_SECONDS = 1
"""The launcher and Kubernetes restart a process within seconds; a retry with the same request_id is safe."""
EDGE_OVERLOADED = "EDGE_OVERLOADED"
OVERLOADED_MESSAGE = "the edge is short of memory: retry later"
OVERLOADED_RETRY_AFTER_SECONDS = 5
"""A refusal lasts while the calls holding the edge's memory do: a few seconds once the largest are reset."""
GRPC_TOO_LARGE = "the request is larger than the edge takes"
"""A gRPC call's request over what the edge buffers of one (Envoy would say UNKNOWN "Payload Too Large")."""


def json_details(reason: str, *, retry_after: int | None = None) -> list[Config]:
    """The Status details as the transcoder prints a service's (proto field names)."""
    details: list[Config] = [{"@type": ERROR_INFO_TYPE, "reason": reason, "domain": DOMAIN, "metadata": {}}]
    if retry_after is not None:
        details.append({"@type": RETRY_INFO_TYPE, "retry_delay": f"{retry_after}s"})
    return details


def status_json(
    code: int, reason: str, *, message: str = "%LOCAL_REPLY_BODY%", retry_after: int | None = None
) -> Config:
    """body_format_override of a REST caller's local reply."""
    return {"json_format": {"code": code, "message": message, "details": json_details(reason, retry_after=retry_after)}}


def status_details_bin(code: int, reason: str, message: str, *, retry_after: int | None = None) -> str:
    """grpc-status-details-bin (base64, as gRPC sends binary metadata) of a Status with these details."""
    details = [_pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))]
    if retry_after is not None:
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=retry_after))))
    status = status_pb2.Status(code=code, message=message, details=details)
    return base64.b64encode(status.SerializeToString()).decode("ascii")


def _pack(message: error_details_pb2.ErrorInfo | error_details_pb2.RetryInfo) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def grpc_reply(code: int, reason: str, message: str, *, retry_after: int | None = None) -> Config:
    """A gRPC caller's local reply: grpc-status, the fixed grpc-message (the body's text) and the details."""
    headers = {
        "grpc-status": str(code),
        STATUS_DETAILS_HEADER: status_details_bin(code, reason, message, retry_after=retry_after),
    }
    return {
        "headers_to_add": [
            {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            for key, value in headers.items()
        ],
        "body_format_override": {"text_format": message},
    }


def status_is(op: str, value: int, key: str) -> Config:
    return {"status_code_filter": {"comparison": {"op": op, "value": {"default_value": value, "runtime_key": key}}}}


def _original_path(*, present: bool) -> Config:
    return {
        "header_filter": {
            "header": {"name": "x-envoy-original-path", "present_match": True, "invert_match": not present}
        }
    }


def _grpc_content(*, grpc: bool) -> Config:
    header = {
        "name": "content-type",
        "string_match": {"prefix": "application/grpc"},
        "invert_match": not grpc,
        "treat_missing_header_as_empty": True,  # else a request without content-type would match neither
    }
    return {"header_filter": {"header": header}}


def is_grpc() -> Config:
    """A gRPC caller's call. A REST request the transcoder has turned into gRPC (its content-type is
    application/grpc by then) is not one: the transcoder kept its original path in x-envoy-original-path."""
    return all_of(_grpc_content(grpc=True), _original_path(present=False))


def is_rest() -> Config:
    return {"or_filter": {"filters": [_grpc_content(grpc=False), _original_path(present=True)]}}


def all_of(*filters: Config) -> Config:
    return {"and_filter": {"filters": list(filters)}}


def _token_refused() -> Config:
    """jwt_authn refuses a bad token with 401, one for another audience with 403: both are a refused token.
    It is the edge's only source of a local 403 once the header cap's (mapped first) is taken: a service's
    PERMISSION_DENIED is an upstream answer and stays 403."""
    return {
        "or_filter": {
            "filters": [status_is("EQ", 401, "edge.token_refused_401"), status_is("EQ", 403, "edge.token_refused")]
        }
    }


def _details_are(expression: str) -> Config:
    """The reply's response code details, e.g. jwt_authn_access_denied{Jwt_is_expired} (the web session
    filter's own 401s say lua_response): evaluated only for a refusal the filters before it let through."""
    return {
        "extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {"@type": CEL_FILTER_TYPE, "expression": f"response.code_details{expression}"},
        }
    }


_BY_JWT = _details_are('.startsWith("jwt_authn_access_denied")')
_EXPIRED = _details_are(' == "jwt_authn_access_denied{Jwt_is_expired}"')


def token_replies() -> list[Config]:
    """A refused token, for REST and gRPC callers: 401 UNAUTHENTICATED, TOKEN_EXPIRED (refresh it) or
    TOKEN_INVALID (sign in again); any other local 403 is a 401 as well, with the reason of a 401."""
    replies = []
    for reason, which in ((TOKEN_EXPIRED, _EXPIRED), ("TOKEN_INVALID", _BY_JWT)):
        replies += [
            {
                "filter": all_of(_token_refused(), is_rest(), which),
                "status_code": 401,
                "body_format_override": status_json(UNAUTHENTICATED, reason),
            },
            {
                "filter": all_of(_token_refused(), is_grpc(), which),
                "status_code": 401,
                **grpc_reply(UNAUTHENTICATED, reason, GRPC_TOKEN_MESSAGES[reason]),
            },
        ]
    unauthenticated = LOCAL_REPLIES[401][1]
    replies += [
        {
            "filter": all_of(status_is("EQ", 403, "edge.refused_403"), is_rest()),
            "status_code": 401,
            "body_format_override": status_json(UNAUTHENTICATED, unauthenticated),
        },
        {"filter": status_is("EQ", 403, "edge.refused_403_grpc"), "status_code": 401},
    ]
    return replies


def json_local_replies() -> Config:
    """local_reply_config: every local error answered as a google.rpc.Status with its gRPC code and reason."""
    rate_limited = {
        "filter": all_of(status_is("EQ", 429, "edge.local_reply_429_grpc"), is_grpc()),
        **grpc_reply(RESOURCE_EXHAUSTED, "RATE_LIMITED", GRPC_RATE_LIMITED, retry_after=RATE_LIMIT_RETRY_AFTER_SECONDS),
    }
    too_large = {
        "filter": all_of(status_is("EQ", 413, "edge.local_reply_413_grpc"), is_grpc()),
        **grpc_reply(RESOURCE_EXHAUSTED, "REQUEST_TOO_LARGE", GRPC_TOO_LARGE),
    }
    by_status = [
        {
            "filter": all_of(status_is("EQ", status, f"edge.local_reply_{status}"), is_rest()),
            "body_format_override": status_json(code, reason, retry_after=RETRY_AFTER.get(status)),
        }
        for status, (code, reason) in LOCAL_REPLIES.items()
    ]
    any_other_error = {
        "filter": all_of(status_is("GE", 400, "edge.local_reply_other"), is_rest()),
        "body_format_override": status_json(*UNKNOWN),
    }
    return {
        "mappers": [
            *token_replies(),
            rate_limited,
            too_large,
            *overloaded_replies(),
            *upstream_replies(),
            *by_status,
            any_other_error,
        ]
    }


def overloaded_replies() -> list[Config]:
    """A request the edge refuses while its heap is nearly full (envoy_heap): 503 UNAVAILABLE, EDGE_OVERLOADED,
    retry later; Envoy's own words ("envoy overloaded"), and the upstream 503's that blamed a service, replaced.
    Mapped ahead of the upstream replies, which match any 503 by its path."""
    overloaded = _details_are(' == "overload"')  # Envoy sets no response flag on this reply
    code = LOCAL_REPLIES[503][0]
    retry = OVERLOADED_RETRY_AFTER_SECONDS
    return [
        {
            "filter": all_of(overloaded, is_grpc()),
            **grpc_reply(code, EDGE_OVERLOADED, OVERLOADED_MESSAGE, retry_after=retry),
        },
        {
            "filter": all_of(overloaded, is_rest()),
            "body_format_override": status_json(code, EDGE_OVERLOADED, message=OVERLOADED_MESSAGE, retry_after=retry),
        },
    ]


def upstream_failure(status: int, service: str) -> tuple[int, str, str, int | None]:
    """(gRPC code, reason, message, retry after) of an upstream failure of `service` ("the loans service")."""
    code, reason = LOCAL_REPLIES[status]
    return (
        code,
        reason,
        UPSTREAM_FAILURES[status].format(service=service),
        (UPSTREAM_RETRY_AFTER_SECONDS if status == 503 else None),
    )


def upstream_replies() -> list[Config]:
    """The edge's own 502, 503 and 504 (a sidecar down or overloaded, no answer in time) as the sidecars
    answer theirs: the service named by the gRPC path (a REST call's, once transcoded), else "the service"."""
    services = [(f"/{name}/", f"{spec.name} service") for spec in registry.SERVICES for name in spec.grpc_services]
    replies = []
    for status in UPSTREAM_FAILURES:
        for prefix, service in [*services, ("/", "service")]:
            code, reason, message, retry_after = upstream_failure(status, service)
            matches = all_of(status_is("EQ", status, f"edge.upstream_{status}"), _path_starts(prefix))
            replies += [
                {"filter": all_of(matches, is_grpc()), **grpc_reply(code, reason, message, retry_after=retry_after)},
                {
                    "filter": all_of(matches, is_rest()),
                    "body_format_override": status_json(code, reason, message=message, retry_after=retry_after),
                },
            ]
    return replies


def _path_starts(prefix: str) -> Config:
    return {"header_filter": {"header": {"name": ":path", "string_match": {"prefix": prefix}}}}
