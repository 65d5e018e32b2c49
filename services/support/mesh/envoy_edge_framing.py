"""gRPC calls that send one message, at the edge: passed on to a service only whole, and only when their messages fit.

The edge used to stream a gRPC call to its service as it came. A call whose request never ended (its last DATA
frame not sent), or ended inside a message (a length prefix claiming more bytes than the stream carried, which
the services' gRPC server leaves unanswered), held one of the edge's concurrent calls to that service until the
route's stream duration ran out, 30 s. Envoy allows a cluster 1,024 of them: one anonymous client with a
thousand such calls, within its rate limit, made every call to the catalog 503 `overflow` for everyone.

A watch (WatchEvents) whose request message was cut short held its call for the stream idle timeout, 5 minutes.

Now a small Lua filter (grpc_framing.lua), on the routes of calls that send one message (unary calls and
watches), waits for the whole request and refuses one whose messages do not tile its body with
INVALID_ARGUMENT. It holds at most one message as large as the service takes (ServiceSpec.max_message_bytes,
no more than the service's gRPC server held of a call before); over it, RESOURCE_EXHAUSTED. A client that
never finishes holds a buffer in the edge, not a call in a service, until the stream duration (a watch: the
idle timeout) ends it, or the edge's heap budget resets it (envoy_heap). Uploads (client streams) are
untouched: their requests last as long as their clients want.
"""

from __future__ import annotations

from pathlib import Path

from services.support.mesh import registry
from services.support.mesh.envoy_common import Config
from services.support.runtime.access import method_path, service_descriptor

LUA_TYPE = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
LUA_PER_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute"
FRAMING_FILTER = "athenaeum.grpc_framing"
FRAMING_SCRIPT = Path(__file__).with_name("grpc_framing.lua")
GRPC_PREFIX_BYTES = 5
"""A gRPC message's compression flag and length, before its bytes."""


def framing_filter() -> Config:
    """The filter, off unless a route turns it on; last before the router (after the rate limits, so a call
    refused there is never buffered)."""
    script = {"inline_string": FRAMING_SCRIPT.read_text(encoding="utf-8")}
    return {
        "name": FRAMING_FILTER,
        "disabled": True,
        "typed_config": {"@type": LUA_TYPE, "default_source_code": script, "source_codes": {FRAMING_FILTER: script}},
    }


def one_message_routes() -> dict[tuple[str, str], int]:
    """The edge's gRPC routes whose calls send one message and end their request, as ("prefix" | "path",
    value) matches (the per-service prefixes: unary calls; the watches: server-streaming only), each with what
    the edge may hold of a call's request there."""
    routes: dict[tuple[str, str], int] = {}
    for spec in registry.SERVICES:
        limit = spec.max_message_bytes + GRPC_PREFIX_BYTES
        for name in spec.grpc_services:
            routes[("prefix", f"/{name}/")] = limit
            for method in service_descriptor(name).methods:
                if method.server_streaming and not method.client_streaming:
                    routes[("path", method_path(method))] = limit
    return routes


def whole_requests(route: Config, limit: int) -> Config:
    """A route of one-message calls with the filter on and room for `limit` bytes of a request."""
    enabled = {FRAMING_FILTER: {"@type": LUA_PER_ROUTE_TYPE, "name": FRAMING_FILTER}}
    return {
        **route,
        "per_request_buffer_limit_bytes": limit,
        "typed_per_filter_config": {**route.get("typed_per_filter_config", {}), **enabled},
    }
