"""OpenAPI 3.1 for the REST/JSON edge, generated from the descriptor set and the proto comments.

Every RPC with a `google.api.http` rule (and each of its additional bindings) becomes an operation whose
path (openapi_paths), query and body parameters are the ones Envoy's transcoder binds; schemas follow the
proto3 JSON mapping (openapi_schemas); who may call each route comes from `option (athenaeum.api.v1.access)`,
the same declaration the services enforce; errors are `google.rpc.Status`, listed per route from the "Errors:"
line of its comment. `athenaeum generate` writes the document into gen/docs/, which the edge serves.
"""

from __future__ import annotations

import re
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from athenaeum.api.v1 import access_pb2
from services.support.devtools.openapi_errors import error_components, error_responses
from services.support.devtools.openapi_paths import Binding, PathParameter, bindings, openapi_path
from services.support.devtools.openapi_schemas import SAMPLE_ID, Schema, SchemaBuilder, behaviors, schema_name
from services.support.devtools.proto_index import FieldProto, ProtoIndex, is_map
from services.support.mesh.envoy_edge_guard import refused_in_query

BEARER = "bearerAuth"
API_PACKAGE_PREFIX = "athenaeum."
_QUERY_DEPTH = 3

_AUDIENCE_NOTES = {
    access_pb2.AUDIENCE_PUBLIC: "anyone; a token is optional (one that is sent must be valid, or the edge answers 401)",
    access_pb2.AUDIENCE_SIGNED_IN: "any signed-in user",
    access_pb2.AUDIENCE_STAFF: "library staff (librarians and admins)",
    access_pb2.AUDIENCE_ADMIN: "admins",
}


class DocumentBuilder:
    """Assembles the OpenAPI document for the services of a descriptor set."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet, *, version: str) -> None:
        self.index = ProtoIndex.of(descriptor_set)
        self.schemas = SchemaBuilder(self.index)
        self.version = version
        self.paths: dict[str, dict[str, Any]] = {}
        self.tags: list[dict[str, str]] = []

    def build(self) -> dict[str, Any]:
        for file in self.index.files:
            if not file.package.startswith(API_PACKAGE_PREFIX):
                continue
            for service in file.service:
                self._service(f"{file.package}.{service.name}", service)
        components = error_components(self.schemas)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Athenaeum API",
                "version": self.version,
                "summary": "A library system: patrons, catalogue, circulation, notifications, activity.",
                "description": API_DESCRIPTION,
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            },
            "servers": [{"url": "/", "description": "The edge that serves this document."}],
            "tags": self.tags,
            "paths": dict(sorted(self.paths.items())),
            "components": {
                "schemas": dict(sorted(self.schemas.schemas.items())),
                "responses": components,
                "securitySchemes": {
                    BEARER: {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "An access token from `POST /v1/auth/login` (or register, refresh): "
                        "`Authorization: Bearer <access_token>`. ES256, valid 15 minutes; keys at "
                        "`/.well-known/jwks.json`.",
                    }
                },
            },
        }

    def _service(self, full_name: str, service: descriptor_pb2.ServiceDescriptorProto) -> None:
        tag = service.name
        described = False
        for method in service.method:
            if not method.options.HasExtension(annotations_pb2.http):
                continue
            if method.client_streaming or method.server_streaming:
                continue  # streams are for gRPC clients; the REST edge does not offer them
            for i, binding in enumerate(bindings(method.options.Extensions[annotations_pb2.http])):
                operation_id = f"{service.name}_{method.name}" + (f"_{i + 1}" if i else "")
                self._operation(full_name, method, binding, tag, operation_id)
                described = True
        if described:
            self.tags.append({"name": tag, "description": self.index.comments.get(full_name, "")})

    def _operation(
        self,
        service_name: str,
        method: descriptor_pb2.MethodDescriptorProto,
        binding: Binding,
        tag: str,
        operation_id: str,
    ) -> None:
        path, path_parameters = openapi_path(binding.template)
        request = schema_name(method.input_type)
        bound = {p.field_path for p in path_parameters}
        comment = self.index.comments.get(f"{service_name}.{method.name}", "")
        access = method.options.Extensions[access_pb2.access]
        operation: dict[str, Any] = {
            "tags": [tag],
            "operationId": operation_id,
            "summary": _summary(comment),
            "description": _with_access_note(comment, access),
            "x-grpc-method": f"/{service_name}/{method.name}",
        }
        parameters = [self._path_parameter(request, p) for p in path_parameters]
        parameters += self._query_parameters(request, binding, bound)
        if parameters:
            operation["parameters"] = parameters
        if binding.body:
            operation["requestBody"] = self._request_body(request, binding.body, bound)
        operation["responses"] = {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": self._response_schema(method, binding)}},
            },
            **error_responses(comment, public=access.audience == access_pb2.AUDIENCE_PUBLIC),
        }
        public = access.audience == access_pb2.AUDIENCE_PUBLIC
        operation["security"] = [{}, {BEARER: []}] if public else [{BEARER: []}]
        item = self.paths.setdefault(path, {})
        if binding.verb in item:
            raise ValueError(f"two RPCs bind {binding.verb.upper()} {path}")
        item[binding.verb] = operation

    def _path_parameter(self, request: str, parameter: PathParameter) -> Schema:
        described = self._field_comment(request, parameter.field_path)
        return {
            "name": parameter.name,
            "in": "path",
            "required": True,
            "description": f"The `{{{parameter.name}}}` segment of `{parameter.field_path}` "
            f"(`{parameter.pattern}`)." + (f" {described}" if described else ""),
            "schema": {"type": "string", "pattern": "^[^/]+$", "examples": [SAMPLE_ID]},
        }

    def _field_comment(self, message: str, field_path: str) -> str:
        *parents, leaf = field_path.split(".")
        for name in parents:
            fld = next(f for f in self.index.message(message).field if f.name == name)
            message = schema_name(fld.type_name)
        return self.index.comments.get(f"{message}.{leaf}", "")

    def _query_parameters(self, request: str, binding: Binding, bound: set[str]) -> list[Schema]:
        if binding.body == "*":
            return []
        skipped = {binding.body} if binding.body else set()
        return self._flatten(request, "", bound, skipped, depth=0, seen=(request,))

    def _flatten(
        self, message: str, prefix: str, bound: set[str], skipped: set[str], *, depth: int, seen: tuple[str, ...]
    ) -> list[Schema]:
        parameters: list[Schema] = []
        for fld in self.index.message(message).field:
            path = prefix + fld.name
            if path in bound or path in skipped or is_map(self.index, fld) or refused_in_query(path):
                continue  # a password is refused by the edge in a query string: never offered as a parameter
            nested = schema_name(fld.type_name) if fld.type == FieldProto.TYPE_MESSAGE else ""
            if nested and nested in self.index.messages and not nested.startswith("google.protobuf."):
                if depth < _QUERY_DEPTH and nested not in seen and fld.label != FieldProto.LABEL_REPEATED:
                    parameters += self._flatten(
                        nested, f"{path}.", bound, skipped, depth=depth + 1, seen=(*seen, nested)
                    )
                continue
            schema = self.schemas.field_schema(message, fld)
            description = schema.pop("description", "")
            parameter: Schema = {"name": path, "in": "query", "schema": schema}
            if description:
                parameter["description"] = description
            if fld.label == FieldProto.LABEL_REPEATED:
                parameter.update(style="form", explode=True)
            if 2 in behaviors(fld) and not prefix:  # REQUIRED
                parameter["required"] = True
            parameters.append(parameter)
        return parameters

    def _request_body(self, request: str, body: str, bound: set[str]) -> Schema:
        if body == "*":
            top_level = frozenset(path for path in bound if "." not in path)
            schema = self.schemas.message_schema(request, exclude=top_level)
            required = True
        else:
            fld = next(f for f in self.index.message(request).field if f.name == body)
            schema = self.schemas.field_schema(request, fld)
            required = 2 in behaviors(fld)  # REQUIRED
        return {"required": required, "content": {"application/json": {"schema": schema}}}

    def _response_schema(self, method: descriptor_pb2.MethodDescriptorProto, binding: Binding) -> Schema:
        response = schema_name(method.output_type)
        if binding.response_body:
            fld = next(f for f in self.index.message(response).field if f.name == binding.response_body)
            return self.schemas.field_schema(response, fld)
        return self.schemas.ref(response)


def _summary(comment: str) -> str:
    first = comment.split("\n\n")[0].split("Errors:")[0].replace("\n", " ").strip()
    sentence = re.split(r"(?<=[.!?:])\s", first, maxsplit=1)[0]
    return sentence.rstrip(".:")


def _with_access_note(comment: str, access: access_pb2.Access) -> str:
    who = _AUDIENCE_NOTES.get(access.audience, "nobody")
    if access.or_self:
        who += f", or the user named by `{access.or_self}` themself (`users/me` names the caller)"
    return f"{comment}\n\n**Who may call it:** {who}."


API_DESCRIPTION = """\
REST/JSON over the same edge that serves gRPC. Every route is one RPC of the gRPC API (`x-grpc-method`),
transcoded by Envoy; the protos in `proto/athenaeum/` are the source of this document.

**JSON.** Field names are the proto field names (`page_size`, `create_time`). 64-bit integers are decimal
strings, enums are their value names (`COPY_STATUS_AVAILABLE`), timestamps RFC 3339 (`2026-01-31T09:30:00Z`),
field masks comma-separated paths (`title,authors`). Responses print every scalar field, defaults included.
Request fields the API does not define are ignored, as the proto3 JSON mapping prescribes (it lets an older
server accept a newer client's requests): nothing acts on them, so check spelling against this document.

**Signing in.** `POST /v1/auth/login` (or `/v1/auth/register`) returns an access token (15 minutes) and a
refresh token (rotated on every `POST /v1/auth/refresh`). Send `Authorization: Bearer <access_token>`.
Routes marked public take no token; a token that is sent must be valid on every route.

**Errors** are `google.rpc.Status` JSON (`{"code": 5, "message": "…", "details": […]}`) with the HTTP status
of the gRPC code: `INVALID_ARGUMENT` 400 with a `google.rpc.BadRequest` detail naming each bad field,
`FAILED_PRECONDITION` 400 with a `google.rpc.ErrorInfo` whose `reason` a program can branch on,
`UNAUTHENTICATED` 401, `PERMISSION_DENIED` 403, `NOT_FOUND` 404, `ALREADY_EXISTS` and `ABORTED` 409,
`RESOURCE_EXHAUSTED` 429, `UNAVAILABLE` 503, `DEADLINE_EXCEEDED` 504. Errors the edge makes itself (an
unknown route or query parameter, a query parameter setting a field the path or body sets or given twice,
malformed JSON, a refused token, a body too large, no healthy service, a timeout) have the same shape.

**Lists** take `page_size` (capped per resource) and `page_token`; pass the response's `next_page_token`
back until it is empty. **Retries:** mutations take `request_id` (a UUID); repeating a request with the same
id returns the first result instead of acting twice. **Updates** take `update_mask` and the resource's
`etag`; a stale etag is refused with `ABORTED`.
"""
