"""The error half of the OpenAPI document: `google.rpc.Status` with its typed details, and the error
responses of each route, read from the "Errors:" line every RPC comment carries."""

from __future__ import annotations

import re
from typing import Any

from services.support.devtools.openapi_schemas import REF_PREFIX, Schema, SchemaBuilder

STATUS = "google.rpc.Status"
ERROR_RESPONSE = "Error"
RESPONSES_PREFIX = "#/components/responses/"
TYPE_URL_PREFIX = "type.googleapis.com/"

# The HTTP status Envoy's transcoder answers for each gRPC code (convert_grpc_status), and the edge's own
# local replies are mapped back the same way (envoy_edge_errors).
HTTP_STATUS = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

# The details the services attach (and clients decode); the rest of google/rpc/error_details.proto too.
DETAIL_TYPES = (
    "google.rpc.ErrorInfo",
    "google.rpc.BadRequest",
    "google.rpc.PreconditionFailure",
    "google.rpc.ResourceInfo",
    "google.rpc.RetryInfo",
    "google.rpc.QuotaFailure",
    "google.rpc.RequestInfo",
    "google.rpc.Help",
    "google.rpc.LocalizedMessage",
    "google.rpc.DebugInfo",
)

_CODE = re.compile(r"\b([A-Z][A-Z_]+[A-Z])\b")


def error_components(schemas: SchemaBuilder) -> dict[str, Any]:
    """Registers Status (with details typed by their `@type`) and returns the shared `Error` response."""
    schemas.ref(STATUS)
    status = schemas.schemas[STATUS]
    known = [name for name in DETAIL_TYPES if name in schemas.index.messages]
    typed = [
        {
            "allOf": [schemas.ref(name)],
            "properties": {"@type": {"const": TYPE_URL_PREFIX + name}},
            "required": ["@type"],
        }
        for name in known
    ]
    any_detail = {"$ref": REF_PREFIX + "google.protobuf.Any"}
    schemas.schemas["google.protobuf.Any"] = {
        "type": "object",
        "description": "A detail of another type: its `@type` URL and the fields of that message.",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    }
    status["properties"]["details"] = {
        "type": "array",
        "description": "Machine-readable details: `ErrorInfo.reason` names the failed rule "
        "(e.g. `LOAN_LIMIT_REACHED`), `BadRequest.field_violations` lists every bad field.",
        "items": {"anyOf": [*typed, any_detail]},
    }
    status["properties"]["code"]["description"] = (
        "The gRPC status code (google.rpc.Code): 3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED, "
        "9 FAILED_PRECONDITION, 16 UNAUTHENTICATED, …; the HTTP status says the same thing."
    )
    status["required"] = ["code", "message"]
    return {
        ERROR_RESPONSE: {
            "description": "Any other error, as `google.rpc.Status`.",
            "content": {"application/json": {"schema": {"$ref": REF_PREFIX + STATUS}}},
        }
    }


def documented_errors(comment: str) -> list[tuple[str, str]]:
    """The (code, explanation) pairs of a comment's "Errors:" section, in order."""
    _, found, text = comment.partition("Errors:")
    if not found:
        return []
    pairs = []
    for match in _CODE.finditer(text):
        code = match.group(1)
        if code not in HTTP_STATUS:
            continue
        rest = text[match.end() :].lstrip()
        pairs.append((code, _parenthesised(rest) if rest.startswith("(") else ""))
    return pairs


def _parenthesised(text: str) -> str:
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return " ".join(text[1:i].split())
    return " ".join(text[1:].split())


def error_responses(comment: str, *, public: bool) -> dict[str, Schema]:
    """The route's documented errors by HTTP status, plus 401 (a bad token is refused on every route),
    403 where a token is needed, and `default` for whatever the edge itself may answer."""
    by_status: dict[int, list[str]] = {}
    for code, why in documented_errors(comment):
        by_status.setdefault(HTTP_STATUS[code], []).append(f"`{code}`" + (f": {why}" if why else ""))
    refused = (
        "the access token sent is expired or invalid" if public else "no access token, or an expired or invalid one"
    )
    by_status.setdefault(401, []).append(f"`UNAUTHENTICATED`: {refused}")
    if not public:
        by_status.setdefault(403, []).append("`PERMISSION_DENIED`: the caller's role does not allow it")
    responses: dict[str, Schema] = {
        str(status): {
            "description": "; ".join(dict.fromkeys(lines)) + ".",
            "content": {"application/json": {"schema": {"$ref": REF_PREFIX + STATUS}}},
        }
        for status, lines in sorted(by_status.items())
    }
    responses["default"] = {"$ref": RESPONSES_PREFIX + ERROR_RESPONSE}
    return responses
