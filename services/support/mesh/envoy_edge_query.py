"""Query parameters the edge refuses by what they would set: a field the URL path or the body sets, or a
singular field given twice.

Envoy's transcoder fills a request from the path's bindings, then the body, then the query string, so
`DELETE /v1/itemTypes/SPARE?name=itemTypes/VICTIM` deleted VICTIM (the access log and any rule keyed on the
path saw SPARE), `POST /v1/itemTypes?item_type.not_for_loan=true` set a field the JSON body did not show,
and `?filter=a&filter=b` kept `b` alone. The transcoder has no switch for either (its
`reject_binding_body_field_collisions` covers the body only), so each RPC's `google.api.http` rule gives
routes that refuse them: a query parameter naming a field its binding takes from the path or the body (or
one beneath it), and a singular field's parameter given twice. Repeated fields take several values.

Like the password route (envoy_edge_guard), they match once the transcoder has made the call gRPC: the
gRPC path, compared exactly (a string comparison for every other request), and a regex over the original
path the transcoder kept in x-envoy-original-path, run only for that RPC's calls that have a query string
(a substring test comes first). No filter is added to the chain, so a request pays nothing more than the
comparisons.

A field is named in the query by its proto name or its JSON name, segment by segment (`item_type.name`,
`itemType.name`); a percent-encoded parameter name is refused by the password route already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

from services.support.mesh import registry
from services.support.mesh.envoy_common import Config
from services.support.mesh.envoy_edge_guard import TRANSCODED
from services.support.mesh.envoy_edge_methods import PathPattern
from services.support.runtime.access import method_path, service_descriptor

_BOUND = re.compile(r"\{([A-Za-z0-9_.]+)(?:=[^}]*)?\}")
_QUERY_DEPTH = 3
"""How deep the transcoder is followed into nested messages (the API reference lists as deep)."""
_ANY_PATH = "[^?]*"
_REST = "(?:[=&].*)?"
"""Whatever follows a parameter's name: its value and the parameters after it, or nothing."""
REFUSED_MESSAGE = (
    "a query parameter may not set what the URL path or the request body sets (here: {names}); "
    "the URL says what is acted on, the body what it becomes"
)
REPEATED_MESSAGE = "a query parameter was given more than once: only a repeated field takes several values"


@dataclass(frozen=True)
class QueryRules:
    """What one binding of an RPC refuses in its query string: the field paths the path and body set
    (a parameter naming one, or a field beneath it), and the singular fields it takes from the query."""

    refused: tuple[str, ...]
    singular: tuple[str, ...]


def query_rules(request: Descriptor, binding: http_pb2.HttpRule, template: str) -> QueryRules:
    """The rules of a binding (`template` is its path) for a request message."""
    bound = _BOUND.findall(template)
    if binding.body == "*":
        refused = [*bound, *(fld.name for fld in request.fields if fld.name not in bound)]
    else:
        refused = [*bound, *([binding.body] if binding.body else [])]
    return QueryRules(tuple(refused), tuple(_singular_leaves(request, "", set(refused), depth=0, seen=())))


def _singular_leaves(
    message: Descriptor, prefix: str, refused: set[str], *, depth: int, seen: tuple[str, ...]
) -> list[str]:
    """The singular fields a query parameter can set, as the transcoder reads them: scalars, enums and the
    well-known types it parses from a string (FieldMask, Timestamp…), nested messages followed."""
    leaves = []
    for fld in message.fields:
        path = prefix + fld.name
        if path in refused or fld.is_repeated:
            continue
        nested = fld.message_type if fld.type == FieldDescriptor.TYPE_MESSAGE else None
        if nested is None or nested.full_name.startswith("google.protobuf."):
            leaves.append(path)
        elif depth < _QUERY_DEPTH and nested.full_name not in seen:
            leaves += _singular_leaves(nested, f"{path}.", refused, depth=depth + 1, seen=(*seen, nested.full_name))
    return leaves


def spellings(request: Descriptor, field_path: str) -> str:
    """An RE2 regex of the names a query parameter may give a field path: each segment's proto or JSON name."""
    parts: list[str] = []
    message: Descriptor | None = request
    for name in field_path.split("."):
        assert message is not None, field_path  # only a message field has fields beneath it
        fld = message.fields_by_name[name]
        names = sorted({fld.name, fld.json_name})
        parts.append(re.escape(names[0]) if len(names) == 1 else "(?:" + "|".join(map(re.escape, names)) + ")")
        message = fld.message_type
    return r"\.".join(parts)


def refused_regex(request: Descriptor, refused: list[str]) -> str:
    """An original path (with its query) carrying a parameter that names a refused field, or one beneath it."""
    names = "|".join(spellings(request, field_path) for field_path in refused)
    return rf"{_ANY_PATH}\?(?:.*&)?(?:{names})(?:\.[^=&]*)?{_REST}"


def taking_paths(templates: tuple[str, ...]) -> str:
    """An original path that is one of these templates' (a trailing slash too, as the transcoder takes it)."""
    paths = "|".join(PathPattern.parse(template).regex() for template in templates)
    return rf"(?:{paths})/?(?:\?.*)?"


def repeated_regex(request: Descriptor, singular: list[str]) -> str:
    """An original path whose query gives one singular field twice (under either of its names)."""
    twice = "|".join(f"{name}(?:=[^&]*)?&(?:.*&)?{name}" for name in (spellings(request, p) for p in singular))
    return rf"{_ANY_PATH}\?(?:.*&)?(?:{twice}){_REST}"


def query_routes() -> list[Config]:
    """The refusing routes of every RPC with a `google.api.http` rule; they go before the gRPC routes."""
    return [
        route
        for spec in registry.SERVICES
        for name in spec.grpc_services
        for method in service_descriptor(name).methods
        for route in _method_routes(method)
    ]


def _method_routes(method: MethodDescriptor) -> list[Config]:
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    request = method.input_type
    bindings = [(binding, getattr(binding, kind)) for binding in (rule, *rule.additional_bindings)
                if (kind := binding.WhichOneof("pattern")) not in (None, "custom")]  # fmt: skip
    per_binding = [(template, query_rules(request, binding, template)) for binding, template in bindings]
    if not per_binding:
        return []  # not on the REST API
    # What every path of the RPC refuses is refused whatever the path. What one path takes from the query and
    # another refuses (`parent` of /v1/holds, bound in /v1/users/*/holds) is refused unless the path is one
    # that takes it: a path the table does not foresee is refused, never let through.
    refused = {name: tuple(t for t, rules in per_binding if name not in rules.refused)
               for _, rules in per_binding for name in rules.refused}  # fmt: skip
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, taking in refused.items():
        groups.setdefault(taking, []).append(name)
    routes = [
        _refusing_route(method, refused_regex(request, names), REFUSED_MESSAGE.format(names=", ".join(names)), taking)
        for taking, names in groups.items()
    ]
    # A field one binding takes from the query and another refuses is refused there anyway, given twice or not.
    singular = sorted({path for _, rules in per_binding for path in rules.singular})
    if singular:
        routes.append(_refusing_route(method, repeated_regex(request, singular), REPEATED_MESSAGE))
    return routes


def _refusing_route(method: MethodDescriptor, regex: str, message: str, unless: tuple[str, ...] = ()) -> Config:
    """The 400 of an RPC's call whose original path matches `regex`, unless it is one of the templates `unless`."""
    # A call with no query string (most reads: GET /v1/books/{id}) is let past by a substring test, before any
    # regex runs: Envoy tests a route's header matchers in order and stops at the first that fails.
    headers = [
        {"name": TRANSCODED["name"], "string_match": {"contains": "?"}},
        {"name": TRANSCODED["name"], "string_match": {"safe_regex": {"regex": regex}}},
    ]
    if unless:
        headers.append(
            {
                "name": TRANSCODED["name"],
                "string_match": {"safe_regex": {"regex": taking_paths(unless)}},
                "invert_match": True,
            }
        )
    return {
        "match": {"path": method_path(method), "headers": headers},
        "direct_response": {"status": 400, "body": {"inline_string": message}},
    }
