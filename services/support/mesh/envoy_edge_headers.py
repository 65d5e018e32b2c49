"""The edge's cap on a request's headers, the URL included: over it, that call alone is refused with a Status.

The codecs used to enforce the cap while decoding, and over HTTP/2 they cannot answer: a header block over
the codec's limit reset the stream (RST_STREAM INTERNAL_ERROR, which a gRPC caller sees as INTERNAL "Stream
removed"), and one field over the HPACK decoder's limit (64 KiB) left the connection's header compression
state behind, so the edge ended the connection (GOAWAY COMPRESSION_ERROR) and every other call on it, a
running WatchEvents too. Advertising SETTINGS_MAX_HEADER_LIST_SIZE does not help: it is advice, and gRPC
clients send the call anyway.

So the codecs decode up to DECODED_HEADERS_KB (the whole block, and a single field), and the filter below
refuses more than MAX_REQUEST_HEADERS_KB of decoded headers: RBAC with one CEL condition on the size Envoy
keeps of the header map (no Lua, no copy). Its refusal, a 403, is rewritten by the first local-reply mappers
into 431 with the edge's Status JSON (RESOURCE_EXHAUSTED) for REST, and a trailers-only RESOURCE_EXHAUSTED
for gRPC. Beyond DECODED_HEADERS_KB the codecs answer as before: HTTP/1.1 with 431 (a Status JSON too),
HTTP/2 with a reset of that call (a block that large) or of the connection (one field that large).

Memory: an HTTP/2 header block arrives in one piece per connection (nothing may come between HEADERS and its
CONTINUATION frames), and the filter refuses it as soon as it is decoded, so a connection holds at most one
decoded block and the field being decoded, twice DECODED_HEADERS_KB, against the HPACK decoder's 64 KiB before;
for as long as request_headers_timeout lets a client take, and across at most MAX_DOWNSTREAM_CONNECTIONS.

The number of headers is capped the same way. The codecs' count limit (Envoy's default, 100) reset an HTTP/2
call, and, since the edge adds headers of its own, 86 to 98 of a client's headers passed the edge and met the
sidecar's limit: a 503 UNAVAILABLE, which a gRPC client retries though the call can never succeed. Now the
codecs decode up to DECODED_HEADERS_COUNT fields, the same filter refuses more than MAX_REQUEST_HEADERS of
the client's (431 / RESOURCE_EXHAUSTED), and the sidecars take SIDECAR_HEADERS_COUNT, well above what the
edge forwards. A field costs the codec a few hundred bytes however short it is, so DECODED_HEADERS_COUNT of
them hold about as much as a DECODED_HEADERS_KB block.
"""

from __future__ import annotations

from typing import Any

from services.support.mesh.envoy_common import Config
from services.support.mesh.envoy_edge_errors import all_of, grpc_reply, is_grpc, status_json

RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
CEL_FILTER_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"
HEADER_CAP_FILTER = "athenaeum.header_cap"
POLICY = "headers_over_the_cap"
COUNT_POLICY = "too_many_headers"
MAX_REQUEST_HEADERS_KB = 8
"""Every header with the URL: a service's gRPC metadata cap (16 KiB) holds them twice (the transcoder keeps
the original path) with room for what the edge adds."""
DECODED_HEADERS_KB = 96
"""What the codecs decode, so that a call over the cap is answered rather than reset (up to this much)."""
MAX_REQUEST_HEADERS = 100
"""Header fields a client may send, the pseudo-headers (:method, :path, :scheme, :authority / Host) not counted."""
HEADERS_THE_EDGE_ADDS = 4 + 5
"""What the filter counts besides a client's headers: the pseudo-headers, and at most five of the edge's own
(x-request-id, x-forwarded-for, x-forwarded-proto, x-envoy-internal or x-envoy-external-address, and the
client's x-request-id set aside), so that MAX_REQUEST_HEADERS of a client's always pass."""
DECODED_HEADERS_COUNT = 500
"""What the codecs decode, so that a call over the count cap is answered rather than reset (up to this many)."""
SIDECAR_HEADERS_COUNT = 2 * (MAX_REQUEST_HEADERS + HEADERS_THE_EDGE_ADDS)
"""What a sidecar's inbound codecs take: all the edge admits, with what the token check, the transcoder and
the router add after the cap, twice over."""
RESOURCE_EXHAUSTED = 8
REFUSAL = f"request headers, the URL included, over {MAX_REQUEST_HEADERS_KB} KiB"
COUNT_REFUSAL = f"more than {MAX_REQUEST_HEADERS} request headers"
REASON = "HEADERS_TOO_LARGE"


def codec_limits() -> dict[str, Any]:
    """HCM settings: how much of a request's headers the codecs decode before they give up on it."""
    return {
        "max_request_headers_kb": DECODED_HEADERS_KB,
        "http2_protocol_options": {"max_header_field_size_kb": DECODED_HEADERS_KB},
        "common_http_protocol_options": {"max_headers_count": DECODED_HEADERS_COUNT},
    }


def sidecar_codec_limits() -> dict[str, Any]:
    """HCM settings of a sidecar's inbound listener: every request the edge admits is decoded, never reset."""
    return {"common_http_protocol_options": {"max_headers_count": SIDECAR_HEADERS_COUNT}}


def header_cap_filter() -> Config:
    """RBAC refusing a request whose decoded headers (the edge's forwarding headers with them) are over the
    cap, or too many; early in the chain, before the transcoder copies the path into another header."""
    headers = {"select_expr": {"operand": {"ident_expr": {"name": "request"}}, "field": "headers"}}
    headers_bytes = {"select_expr": {"operand": {"ident_expr": {"name": "request"}}, "field": "headers_bytes"}}
    # size() of the header map is its number of fields, kept by Envoy (no copy, as for headers_bytes).
    headers_count = {"call_expr": {"function": "size", "args": [headers]}}
    return {
        "name": HEADER_CAP_FILTER,
        "typed_config": {
            "@type": RBAC_TYPE,
            "rules_stat_prefix": "edge_header_cap_",
            "rules": {
                "action": "DENY",
                "policies": {
                    POLICY: _refuse_when(headers_bytes, MAX_REQUEST_HEADERS_KB * 1024),
                    COUNT_POLICY: _refuse_when(headers_count, MAX_REQUEST_HEADERS + HEADERS_THE_EDGE_ADDS),
                },
            },
        },
    }


def _refuse_when(value: Config, over: int) -> Config:
    condition = {"call_expr": {"function": "_>_", "args": [value, {"const_expr": {"int64_value": over}}]}}
    return {"permissions": [{"any": True}], "principals": [{"any": True}], "condition": condition}


def header_cap_replies() -> list[Config]:
    """local_reply_config mappers for the filter's refusals; they go before every other mapper (a refusal
    is a 403, which the others would take for a refused token)."""
    return [*_replies(POLICY, REFUSAL), *_replies(COUNT_POLICY, COUNT_REFUSAL)]


def _replies(policy: str, message: str) -> list[Config]:
    refused = {
        "extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {
                "@type": CEL_FILTER_TYPE,
                "expression": f'response.code_details == "rbac_access_denied_matched_policy[{policy}]"',
            },
        }
    }
    return [
        {
            # A gRPC caller's local reply takes its grpc-status from the response headers when one is there.
            "filter": all_of(refused, is_grpc()),
            "status_code": 431,
            **grpc_reply(RESOURCE_EXHAUSTED, REASON, message),
        },
        {
            "filter": refused,
            "status_code": 431,
            "body_format_override": status_json(RESOURCE_EXHAUSTED, REASON, message=message),
        },
    ]
