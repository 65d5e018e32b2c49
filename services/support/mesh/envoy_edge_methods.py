"""Which HTTP methods each REST path takes, as the edge answers them: 405 with `Allow`, and HEAD as GET.

The transcoder matches a method and a path together, so a known path asked with another method (PUT on
/v1/books) and HEAD on a GET route were both "Could not resolve … to a method", a 404 for a resource that
is there. The path templates of the `google.api.http` annotations give a route per path pattern that
answers any method its bindings do not take with 405, an `Allow` header and the edge's Status JSON
(UNIMPLEMENTED); the transcoder is off on it, so it cannot refuse first. Routes match in order, so a
pattern comes before any broader one it falls within (`/v1/users/me` before `/v1/users/*`), and its
`Allow` counts the broader one's methods too. A request with a method the path takes matches none of them
and goes on to the transcoder as before; the routes come after the gRPC ones, so a gRPC call never meets them.

HEAD (RFC 9110 9.3.2: a server that answers GET answers HEAD) takes one more route: it turns on a small
Lua filter for that request alone (other requests never create it), which sends the request on as the GET
the transcoder knows and drops the answer's body, keeping its length in content-length. HTTP/1.1 would drop
the body by itself; HTTP/2 sends whatever body the answer has, which a client takes for a broken stream.

The CORS filter passes a direct response by (it has no target to find a policy on), so a browser on an
allowed origin saw a CORS failure instead of the 405. With CORS on, each 405 route has a twin for a request
from an allowed origin that adds the headers the filter would: the origin allowed, and the headers exposed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2, http_pb2

from services.support.mesh import registry
from services.support.mesh.envoy_common import Config
from services.support.mesh.envoy_edge_api import CORS_EXPOSE_HEADERS
from services.support.runtime.access import service_descriptor

LUA_TYPE = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
LUA_PER_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute"
FILTER_CONFIG_TYPE = "type.googleapis.com/envoy.config.route.v3.FilterConfig"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
HEAD_FILTER = "athenaeum.head_as_get"
HEAD_SCRIPT = Path(__file__).with_name("head_as_get.lua")
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""How `Allow` lists the methods (any custom one after these)."""
_SEGMENT = "[^/:]+"
"""What `*` matches: one path segment. Not a colon either, so `/v1/loans/*` leaves `/v1/loans/x:renew` to
the pattern with that verb, as the transcoder does."""
_VARIABLE = re.compile(r"\{[^}=]+(?:=([^}]*))?\}")
NOT_GRPC = {
    "name": "content-type",
    "string_match": {"prefix": "application/grpc"},
    "invert_match": True,
    "treat_missing_header_as_empty": True,
}
"""A gRPC call on a REST path is none of these routes' business (the transcoder passes it through)."""


@dataclass(frozen=True, order=True)
class PathPattern:
    """A path template of a google.api.http rule, its variables reduced to what they match."""

    segments: tuple[str, ...]
    verb: str = ""

    @classmethod
    def parse(cls, template: str) -> PathPattern:
        """`/v1/{name=loans/*}:return` → segments ("v1", "loans", "*"), verb "return"."""
        body, verb = template, ""
        if ":" in template.rsplit("/", 1)[-1].rsplit("}", 1)[-1]:
            body, verb = template.rsplit(":", 1)
        segments = tuple(_VARIABLE.sub(lambda match: match.group(1) or "*", body).strip("/").split("/"))
        if "**" in segments:
            raise ValueError(f"{template}: `**` templates are not in the edge's method table yet")
        return cls(segments, verb)

    @property
    def wildcards(self) -> int:
        return self.segments.count("*")

    def regex(self) -> str:
        """The RE2 regex of the paths it matches (Envoy matches it against the path without the query)."""
        path = "/".join(_SEGMENT if segment == "*" else re.escape(segment) for segment in self.segments)
        return "/" + path + (":" + re.escape(self.verb) if self.verb else "")

    def contains(self, other: PathPattern) -> bool:
        """Every path `other` matches, this one matches too."""
        return self._aligned(other) and all(a in ("*", b) for a, b in self._pairs(other))

    def overlaps(self, other: PathPattern) -> bool:
        return self._aligned(other) and all("*" in (a, b) or a == b for a, b in self._pairs(other))

    def _aligned(self, other: PathPattern) -> bool:
        return len(self.segments) == len(other.segments) and self.verb == other.verb

    def _pairs(self, other: PathPattern) -> zip[tuple[str, str]]:
        return zip(self.segments, other.segments, strict=True)


def _bindings(rule: http_pb2.HttpRule) -> list[tuple[str, str]]:
    """(method, template) of a rule and its additional bindings."""
    found = []
    for binding in (rule, *rule.additional_bindings):
        kind = binding.WhichOneof("pattern")
        if kind == "custom":
            found.append((binding.custom.kind.upper(), binding.custom.path))
        elif kind is not None:
            found.append((kind.upper(), getattr(binding, kind)))
    return found


def rest_methods() -> dict[PathPattern, set[str]]:
    """The methods bound to each path pattern, over every service of the registry."""
    methods: dict[PathPattern, set[str]] = defaultdict(set)
    for spec in registry.SERVICES:
        for name in spec.grpc_services:
            for method in service_descriptor(name).methods:
                for verb, template in _bindings(method.GetOptions().Extensions[annotations_pb2.http]):
                    methods[PathPattern.parse(template)].add(verb)
    return dict(methods)


def allowed_methods(bound: dict[PathPattern, set[str]]) -> list[tuple[PathPattern, list[str]]]:
    """Each pattern with what a path it matches takes (a broader pattern's methods included), narrowest
    first, HEAD wherever GET is. Two patterns that share some paths but neither holds the other would need
    a route for their intersection: refused, so the table never answers 405 for a method a path takes."""
    patterns = sorted(bound, key=lambda pattern: (pattern.wildcards, pattern))
    for index, pattern in enumerate(patterns):
        for other in patterns[index + 1 :]:
            if pattern.overlaps(other) and not other.contains(pattern):
                raise ValueError(f"REST paths {pattern.regex()} and {other.regex()} overlap: give one a literal")
    table = []
    for pattern in patterns:
        methods = set().union(*(bound[other] for other in patterns if other.contains(pattern)))
        if "GET" in methods:
            methods.add("HEAD")
        table.append((pattern, sorted(methods, key=_method_rank)))
    return table


def _method_rank(method: str) -> tuple[int, str]:
    return (METHOD_ORDER.index(method), "") if method in METHOD_ORDER else (len(METHOD_ORDER), method)


def method_routes(head_cluster: str | None = None, cors_origins: tuple[str, ...] = ()) -> list[Config]:
    """The 405 route of each REST path pattern, then the HEAD route; they go after the gRPC routes.

    The CORS filter acts only on a route with a target (a direct response has none): with CORS on, the HEAD
    route names `head_cluster` (the CORS route's, never reached), so a cross-origin HEAD gets its headers,
    and each 405 route from one of `cors_origins` adds them itself.
    """
    routes = [
        route
        for pattern, methods in allowed_methods(rest_methods())
        for route in (
            *([_not_allowed_route(pattern, methods, cors_origins)] if cors_origins else []),
            _not_allowed_route(pattern, methods),
        )
    ]
    return [*routes, _head_route(head_cluster)]


def _not_allowed_route(pattern: PathPattern, methods: list[str], cors_origins: tuple[str, ...] = ()) -> Config:
    """The 405 of a pattern; with `cors_origins`, only for a request from one of them, with the CORS headers."""
    allow = ", ".join(methods)
    # The method checks go first: a request with a method the path takes fails them before any regex runs.
    # OPTIONS goes on as before, to the CORS filter's preflight answer (which a direct response would skip).
    passing = [*methods, "OPTIONS"]
    other_method = [{"name": ":method", "string_match": {"exact": method}, "invert_match": True} for method in passing]
    origin = [_origin_is_one_of(cors_origins)] if cors_origins else []
    headers = {"allow": allow} | (_cors_headers() if cors_origins else {})
    return {
        "match": {"safe_regex": {"regex": pattern.regex()}, "headers": [*other_method, NOT_GRPC, *origin]},
        "direct_response": {"status": 405, "body": {"inline_string": f"this path takes {allow} only"}},
        "response_headers_to_add": [
            {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            for key, value in headers.items()
        ],
        "typed_per_filter_config": {TRANSCODER: {"@type": FILTER_CONFIG_TYPE, "disabled": True}},
    }


def _origin_is_one_of(origins: tuple[str, ...]) -> Config:
    """Exactly one of the allowed origins, as the CORS policy's exact matches take them."""
    regex = "|".join(re.escape(origin) for origin in origins)
    return {"name": "origin", "string_match": {"safe_regex": {"regex": f"(?:{regex})"}}}


def _cors_headers() -> dict[str, str]:
    """What the CORS filter adds to an answer for an allowed origin (not a preflight)."""
    return {"access-control-allow-origin": "%REQ(origin)%", "access-control-expose-headers": CORS_EXPOSE_HEADERS}


def _head_route(cluster: str | None) -> Config:
    """HEAD on any REST path the 405 routes let through: the Lua filter makes it the GET, and the transcoder
    takes it (or answers 404 for a path it does not know, as for a GET). Its target is what a call the
    transcoder passes through untouched would reach; gRPC calls, the only such calls, do not match."""
    target: Config = (
        {"route": {"cluster": cluster}}
        if cluster is not None
        else {"direct_response": {"status": 404, "body": {"inline_string": "no such path"}}}
    )
    return {
        "match": {"prefix": "/", "headers": [{"name": ":method", "string_match": {"exact": "HEAD"}}, NOT_GRPC]},
        **target,
        "typed_per_filter_config": {HEAD_FILTER: {"@type": LUA_PER_ROUTE_TYPE, "name": HEAD_FILTER}},
    }


def head_filter() -> Config:
    """The HEAD filter, off unless a route turns it on; it goes before the transcoder.

    The HEAD route turns it on by naming its script. Once the transcoder has routed the request again (to its
    gRPC route, which names no script), the answer meets the filter's default script: the same one.
    """
    script = {"inline_string": HEAD_SCRIPT.read_text(encoding="utf-8")}
    return {
        "name": HEAD_FILTER,
        "disabled": True,
        "typed_config": {"@type": LUA_TYPE, "default_source_code": script, "source_codes": {HEAD_FILTER: script}},
    }
