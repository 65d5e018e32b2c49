"""The HTTP routes of an RPC as OpenAPI names them: each binding of its `google.api.http` rule (verb, path
template, body), and a path template rewritten into an OpenAPI path whose `{param}`s are single segments of the
bound fields (`/v1/{name=books/*/copies/*}` -> `/v1/books/{book}/copies/{copy}`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.api import http_pb2

_VARIABLE = re.compile(r"\{([A-Za-z0-9_.]+)(?:=([^}]*))?\}")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Binding:
    """One HTTP route of an RPC: its verb, path template and body selector."""

    verb: str
    template: str
    body: str
    response_body: str


def bindings(rule: http_pb2.HttpRule) -> list[Binding]:
    """The primary binding of a rule and its additional ones, in declaration order."""
    found = []
    for item in (rule, *rule.additional_bindings):
        pattern = item.WhichOneof("pattern")
        if pattern == "custom":
            found.append(Binding(item.custom.kind.lower(), item.custom.path, item.body, item.response_body))
        elif pattern in _HTTP_METHODS:
            found.append(Binding(pattern, getattr(item, pattern), item.body, item.response_body))
    return found


def singular(collection: str) -> str:
    """ "books" → "book", "copies" → "copy", "circulationRules" → "circulationRule"."""
    if collection.endswith("ies"):
        return collection[:-3] + "y"
    return collection[:-1] if collection.endswith("s") else collection


@dataclass(frozen=True)
class PathParameter:
    """One `{param}` of an OpenAPI path: a single segment of a bound field's value."""

    name: str
    field_path: str
    pattern: str


def openapi_path(template: str) -> tuple[str, list[PathParameter]]:
    """`/v1/{name=books/*/copies/*}:x` → `/v1/books/{book}/copies/{copy}:x`, and its parameters.

    The transcoder rebuilds `name` from the segments, so a client never has to escape a slash.
    """
    parameters: list[PathParameter] = []

    def expand(match: re.Match[str]) -> str:
        field_path, pattern = match.group(1), match.group(2) or "*"
        segments = pattern.split("/")
        out = []
        for i, segment in enumerate(segments):
            if segment in ("*", "**"):
                base = singular(segments[i - 1]) if i else field_path.split(".")[-1]
                name = base if base not in {p.name for p in parameters} else f"{base}{len(parameters)}"
                parameters.append(PathParameter(name, field_path, pattern))
                out.append(f"{{{name}}}")
            else:
                out.append(segment)
        return "/".join(out)

    return _VARIABLE.sub(expand, template), parameters
