"""How the edge protects the mesh from its callers: size caps, and rate limits per class of route.

- Headers, the URL included, beyond MAX_REQUEST_HEADERS_KB: 431, or RESOURCE_EXHAUSTED for that gRPC call alone
  (envoy_edge_headers). A REST body beyond MAX_REQUEST_BODY_BYTES: 413, before anything reads it (the
  transcoder would stream it on). gRPC calls stream through unbuffered (an
  import is a long client stream) and meet the services' own cap on each message.
- Local rate limits (token buckets in the edge Envoy itself, no extra service): each route class of
  `registry.RateLimits` has its bucket per client address or per signed-in user. Over the limit: 429
  RESOURCE_EXHAUSTED, with Retry-After and the edge's Status JSON (a gRPC caller gets the status).
- A password in a REST query string (`?current_password=…`): 400 before any service sees it. URLs end up in
  proxies' and browsers' logs; the API takes passwords in bodies only.
- A REST call's `grpc-timeout` header that is not gRPC's (`5`, `-1S`): 400, where the service's gRPC stack
  failed the call as INTERNAL.

The classes come from the protos, so a new RPC is classed without a line here: a method bound to GET reads
(health and reflection too), a public one that is not is a sign-in style mutation ("auth"), any other is a
write. Who is behind a request is what the edge itself established: the client address it sees (or that
`trusted_proxy_hops` proxies vouch for), the `sub` of a token it verified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from google.api import annotations_pb2

from services.support.mesh import registry
from services.support.mesh.envoy_common import Config
from services.support.mesh.envoy_edge_errors import RATE_LIMIT_RETRY_AFTER_SECONDS as RETRY_AFTER_SECONDS
from services.support.mesh.envoy_edge_headers import codec_limits
from services.support.mesh.registry import RateLimit, RateLimits
from services.support.runtime.access import rule_of, service_descriptor
from services.support.runtime.identity import CLIENT_ADDRESS_HEADER

BUFFER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"
BUFFER_FILTER = "envoy.filters.http.buffer"
FILTER_CONFIG_TYPE = "type.googleapis.com/envoy.config.route.v3.FilterConfig"
LOCAL_RATE_LIMIT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
USER_HEADER = "x-athenaeum-user"
"""Where the edge's jwt_authn writes the verified token's `sub`, for per-user buckets (stripped from clients)."""

MAX_REQUEST_BODY_BYTES = 1024 * 1024
"""A REST body: the biggest request of the API (a book with every field full) is a few dozen kB."""
MAX_RESPONSE_BODY_BYTES = 8 * 1024 * 1024
"""A REST answer the transcoder buffers: a page of 100 books with every field at its limit fits."""
MAX_TRACKED_CLIENTS = 10_000
"""Buckets kept per class (least recently used dropped): a client's bucket is forgotten only under a crowd."""

AUTH, WRITE, READ = "auth", "write", "read"
CLASS_KEY = "route_class"
MESH_WIDE_READS = ("grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                   "grpc.reflection.v1alpha.ServerReflection")  # fmt: skip


REGEX_PROGRAM_SIZE = 4096
"""RE2's program size Envoy accepts (100 by default): a class's alternation of gRPC paths needs more."""


def runtime() -> Config:
    """The edge's layered_runtime: a static layer with the settings the route classes need."""
    layer = {"re2": {"max_program_size": {"error_level": REGEX_PROGRAM_SIZE, "warn_level": REGEX_PROGRAM_SIZE}}}
    return {"layers": [{"name": "static", "static_layer": layer}]}


REQUEST_HEADERS_SECONDS = 10
"""How long a client has to send a request's headers. Without it one client holding thousands of connections
open with half-sent headers (slowloris) filled the process's connection cap, and the edge refused everyone."""
IDLE_CONNECTION_SECONDS = 60
"""How long a connection with no request in flight stays open (Envoy's default is an hour)."""


def size_limits() -> dict[str, Any]:
    """HCM settings capping what a request may carry before any filter buffers it, and how slowly it may
    come: a client that takes its time with the headers, or keeps a connection idle, gives it up."""
    codecs = codec_limits()
    return {
        **codecs,
        "request_headers_timeout": f"{REQUEST_HEADERS_SECONDS}s",
        "common_http_protocol_options": {
            **codecs["common_http_protocol_options"],
            "idle_timeout": f"{IDLE_CONNECTION_SECONDS}s",
        },
    }


def transcoder_limits() -> dict[str, Any]:
    """grpc_json_transcoder settings: what it may hold of a request and of an answer."""
    return {"max_request_body_size": MAX_REQUEST_BODY_BYTES, "max_response_body_size": MAX_RESPONSE_BODY_BYTES}


def body_limit_filter() -> Config:
    """Buffers a REST request whole, up to MAX_REQUEST_BODY_BYTES (then 413). Goes before the transcoder,
    while a REST request matches no gRPC route: those routes turn it off (`unbuffered`) for gRPC calls."""
    return {
        "name": BUFFER_FILTER,
        "typed_config": {"@type": BUFFER_TYPE, "max_request_bytes": MAX_REQUEST_BODY_BYTES},
    }


def unbuffered() -> Config:
    """typed_per_filter_config of a gRPC route: streams pass as they come."""
    return {BUFFER_FILTER: {"@type": FILTER_CONFIG_TYPE, "disabled": True}}


def client_address(topology_hops: int) -> dict[str, Any]:
    """HCM settings that make the downstream address the client's: the peer itself, or what that many
    trusted proxies in front appended to X-Forwarded-For (a client's own entries are never believed)."""
    return {"use_remote_address": True, "xff_num_trusted_hops": topology_hops}


def client_address_header() -> list[Config]:
    """route_config.request_headers_to_add: the client address the edge established, for services that
    throttle per client (sign-in). It replaces any copy the client sent."""
    value = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
    return [{"header": {"key": CLIENT_ADDRESS_HEADER, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]


def route_classes() -> dict[str, list[str]]:
    """The gRPC paths of each route class, from the protos of every service of the registry."""
    classes: dict[str, list[str]] = {AUTH: [], WRITE: [], READ: []}
    for spec in registry.SERVICES:
        for name in spec.grpc_services:
            for method in service_descriptor(name).methods:
                path = f"/{name}/{method.name}"
                rule = rule_of(method)
                http = method.GetOptions().Extensions[annotations_pb2.http]
                if http.WhichOneof("pattern") == "get":
                    classes[READ].append(path)
                elif rule is not None and rule.public:
                    classes[AUTH].append(path)
                else:
                    classes[WRITE].append(path)
    return classes


def rate_limit_filter() -> Config:
    """The filter in the edge's chain, after the transcoder (so a REST request is classed by its gRPC
    method). It limits only routes that carry `route_rate_limits`."""
    return {"name": RATE_LIMIT_FILTER, "typed_config": {"@type": LOCAL_RATE_LIMIT_TYPE, "stat_prefix": "edge_rl"}}


def route_rate_limits(limits: RateLimits) -> Config:
    """typed_per_filter_config of a gRPC route of the edge: a bucket per class and client (or user)."""
    classes = route_classes()
    per_client: list[Config] = [{"remote_address": {}}]
    per_user: list[Config] = [{"request_headers": {"header_name": USER_HEADER, "descriptor_key": "user"}}]
    config = {
        "@type": LOCAL_RATE_LIMIT_TYPE,
        "stat_prefix": "edge_rl",
        "token_bucket": _bucket(limits.other),
        "always_consume_default_token_bucket": False,
        "filter_enabled": _everyone(),
        "filter_enforced": _everyone(),
        "rate_limited_as_resource_exhausted": True,
        "response_headers_to_add": [
            {
                "header": {"key": "retry-after", "value": str(RETRY_AFTER_SECONDS)},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            }
        ],
        "max_dynamic_descriptors": MAX_TRACKED_CLIENTS,
        "descriptors": [
            _descriptor(AUTH, "remote_address", limits.auth),
            _descriptor(WRITE, "user", limits.write),
            _descriptor(READ, "remote_address", limits.read),
        ],
        "rate_limits": [
            {"actions": [_class_of(AUTH, classes[AUTH]), *per_client]},
            {"actions": [_class_of(WRITE, classes[WRITE]), *per_user]},
            {"actions": [_class_of(READ, [*classes[READ], *(f"/{name}/" for name in MESH_WIDE_READS)]), *per_client]},
        ],
    }
    return {RATE_LIMIT_FILTER: config}


def _bucket(limit: RateLimit) -> Config:
    return {"max_tokens": limit.burst, "tokens_per_fill": limit.per_second, "fill_interval": "1s"}


def _everyone() -> Config:
    return {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}


def _descriptor(route_class: str, who: str, limit: RateLimit) -> Config:
    # An entry without a value is a wildcard: one bucket per distinct client address (or user).
    return {"entries": [{"key": CLASS_KEY, "value": route_class}, {"key": who}], "token_bucket": _bucket(limit)}


def _class_of(route_class: str, paths: Iterable[str]) -> Config:
    """The descriptor entry (route_class, <class>) when the gRPC path is one of `paths` (a trailing "/" is
    a prefix); no descriptor otherwise, so the class's bucket is left alone. (Envoy matches a regex against
    the whole value.)"""
    alternatives = "|".join(re.escape(path) + (".*" if path.endswith("/") else "") for path in paths)
    return {
        "header_value_match": {
            "descriptor_key": CLASS_KEY,
            "descriptor_value": route_class,
            "headers": [{"name": ":path", "string_match": {"safe_regex": {"regex": f"(?:{alternatives})"}}}],
        }
    }


_PASSWORD_PARAMETER = r"[A-Za-z0-9_.]*(?i:password)"
"""A query parameter the edge refuses by its name: a password (RE2 and Python read it alike)."""
_PASSWORD_IN_QUERY = rf"[^?]*\?(?:[^#]*&)?(?:{_PASSWORD_PARAMETER}|[^=&#]*%[^=&#]*)=.*"
"""An original REST path (the transcoder keeps it in x-envoy-original-path) with a `…password` parameter in
any letter case (the transcoder takes `currentPassword` too), or with a percent-encoded parameter name (it
decodes `current_pass%77ord`; the API's parameter names are plain words)."""


def refused_in_query(parameter: str) -> bool:
    """Whether the edge refuses a REST call carrying this query parameter (the API reference leaves it out)."""
    return re.fullmatch(_PASSWORD_PARAMETER, parameter) is not None


def password_in_query_route() -> Config:
    """The route refusing a REST call whose query string carries a password. It matches after the transcoder
    has turned the call into gRPC (the route is chosen again then, with the original path as a header), so
    it goes before the gRPC routes; `%LOCAL_REPLY_BODY%` of the edge's Status JSON is the text below."""
    original = {"name": "x-envoy-original-path", "string_match": {"safe_regex": {"regex": _PASSWORD_IN_QUERY}}}
    return {
        "match": {"prefix": "/", "headers": [original]},
        "direct_response": {
            "status": 400,
            "body": {
                "inline_string": "a password goes in the request body, never in the query string (and a "
                "parameter's name is not percent-encoded)"
            },
        },
    }


TRANSCODED = {"name": "x-envoy-original-path", "present_match": True}
"""Present once the transcoder has turned a REST call into gRPC (it keeps the original path there)."""
_GRPC_TIMEOUT = "[0-9]{1,8}[HMSmun]"


def bad_grpc_timeout_route() -> Config:
    """The route refusing a REST call whose `grpc-timeout` header is not gRPC's grammar (a gRPC caller's own
    library writes it, so only REST callers are checked). Placed, like the password route, before the gRPC
    routes: it matches once the transcoder has made the call gRPC."""
    present = {"name": "grpc-timeout", "present_match": True}
    malformed = {"name": "grpc-timeout", "string_match": {"safe_regex": {"regex": _GRPC_TIMEOUT}}, "invert_match": True}
    return {
        "match": {"prefix": "/", "headers": [TRANSCODED, present, malformed]},
        "direct_response": {
            "status": 400,
            "body": {"inline_string": "grpc-timeout must be digits and a unit (H, M, S, m, u, n), e.g. 5S"},
        },
    }
