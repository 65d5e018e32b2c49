"""JSON Schemas of proto messages, by the proto3 JSON mapping, with the proto comments as descriptions.

What the edge's transcoder prints and parses decides every rule here: proto field names (it preserves
them), int64 as a decimal string, enums by name, the well-known types in their JSON forms (Timestamp as
RFC 3339, Duration as "1.5s", FieldMask as "a,b.c", wrappers as their bare value or null), maps as objects.
"""

from __future__ import annotations

import re
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

from athenaeum.api.v1 import limits_pb2
from services.support.devtools.proto_index import FieldProto, ProtoIndex, is_map
from services.support.runtime.boundary import DEFAULT_MAX_ITEMS, DEFAULT_MAX_LENGTH

Schema = dict[str, Any]

REF_PREFIX = "#/components/schemas/"

_INT32 = {"type": "integer", "format": "int32"}
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
_SCALARS: dict[int, Schema] = {
    FieldProto.TYPE_STRING: {"type": "string"},
    FieldProto.TYPE_BYTES: {"type": "string", "format": "byte", "contentEncoding": "base64"},
    FieldProto.TYPE_BOOL: {"type": "boolean"},
    FieldProto.TYPE_INT32: _INT32,
    FieldProto.TYPE_SINT32: _INT32,
    FieldProto.TYPE_SFIXED32: _INT32,
    FieldProto.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295},
    FieldProto.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295},
    FieldProto.TYPE_INT64: _INT64,
    FieldProto.TYPE_SINT64: _INT64,
    FieldProto.TYPE_SFIXED64: _INT64,
    FieldProto.TYPE_UINT64: _UINT64,
    FieldProto.TYPE_FIXED64: _UINT64,
    FieldProto.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldProto.TYPE_DOUBLE: {"type": "number", "format": "double"},
}

# The well-known types that have a JSON form of their own: inlined, never referenced.
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time", "examples": ["2026-01-31T09:30:00Z"]},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$",
        "description": 'Seconds with up to nine fractional digits and an "s" suffix, e.g. "1209600s".',
    },
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": 'Comma-separated field paths, e.g. "title,authors" ("*" for every writable field).',
    },
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string", "description": "The type URL of the packed message."}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": {"type": ["number", "null"], "format": "double"},
    "google.protobuf.FloatValue": {"type": ["number", "null"], "format": "float"},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.UInt64Value": {"type": ["string", "null"], "format": "uint64"},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"], "format": "int64", "minimum": 0},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"], "format": "byte"},
}

_BEHAVIOR = field_behavior_pb2.FieldBehavior


_EXAMPLE = re.compile(r'(?:e\.g\.|Example:|such as)\s*"([^"]+)"')
_RESOURCE_NAME = re.compile(r'^"([a-zA-Z]+(?:/\{[a-z_]+\}(?:/[a-zA-Z]+)?)*)"')
SAMPLE_ID = "6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"


def example_from_comment(comment: str) -> str | None:
    """An example value a string field's comment gives: the first `e.g. "…"`, or, for a comment that
    opens with a resource name pattern such as "books/{book}", that pattern with a sample id."""
    if match := _EXAMPLE.search(comment):
        return match.group(1)
    if match := _RESOURCE_NAME.match(comment):
        return re.sub(r"\{[a-z_]+\}", SAMPLE_ID, match.group(1))
    return None


def behaviors(fld: FieldProto) -> set[int]:
    """The google.api.field_behavior values a field declares."""
    return set(fld.options.Extensions[field_behavior_pb2.field_behavior])


def schema_name(full_name: str) -> str:
    return full_name.lstrip(".")


class SchemaBuilder:
    """Builds `components.schemas`: one entry per message or enum reachable from the API."""

    def __init__(self, index: ProtoIndex) -> None:
        self.index = index
        self.schemas: dict[str, Schema] = {}

    def ref(self, type_name: str) -> Schema:
        """A reference to a message or enum, built on first use (well-known types are inlined)."""
        name = schema_name(type_name)
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder first: recursive messages refer to themselves
            self.schemas[name] = self._enum(name) if name in self.index.enums else self.message_schema(name)
        return {"$ref": REF_PREFIX + name}

    def message_schema(self, name: str, *, exclude: frozenset[str] = frozenset()) -> Schema:
        """An object schema of a message; `exclude` drops top-level fields bound elsewhere (the path)."""
        message = self.index.message(name)
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for fld in message.field:
            if fld.name in exclude:
                continue
            properties[fld.name] = self.field_schema(name, fld)
            if _BEHAVIOR.REQUIRED in behaviors(fld):
                required.append(fld.name)
        schema: Schema = {"type": "object"}
        if description := self.index.comments.get(name):
            schema["description"] = description
        schema["properties"] = properties
        if required:
            schema["required"] = required
        exclusive = _oneof_exclusions(message, exclude)
        if exclusive:
            schema["allOf"] = exclusive
        return schema

    def field_schema(self, message_name: str, fld: FieldProto) -> Schema:
        """The schema of one field, with its comment and field behaviours."""
        schema = self._value_schema(fld)
        if is_map(self.index, fld):
            entry = self.index.message(fld.type_name)
            schema = {"type": "object", "additionalProperties": self._value_schema(entry.field[1])}
        elif fld.label == FieldProto.LABEL_REPEATED:
            schema = {"type": "array", "items": schema}
        notes = [self.index.comments.get(f"{message_name}.{fld.name}", "")]
        declared = behaviors(fld)
        if _BEHAVIOR.OUTPUT_ONLY not in declared:
            _add_limits(schema, fld, mapped=is_map(self.index, fld))
        if fld.type == FieldProto.TYPE_STRING and not is_map(self.index, fld):
            example = example_from_comment(notes[0])
            if example is not None:
                target = schema["items"] if fld.label == FieldProto.LABEL_REPEATED else schema
                target["examples"] = [example]
        if _BEHAVIOR.OUTPUT_ONLY in declared or _BEHAVIOR.IDENTIFIER in declared:
            schema["readOnly"] = True
        if _BEHAVIOR.INPUT_ONLY in declared:
            schema["writeOnly"] = True
        if _BEHAVIOR.IMMUTABLE in declared:
            notes.append("Immutable: set when the resource is created, never changed afterwards.")
        if declared:
            schema["x-field-behavior"] = sorted(_BEHAVIOR.Name(b) for b in declared)
        if fld.HasField("oneof_index") and not fld.proto3_optional:
            oneof = self.index.message(message_name).oneof_decl[fld.oneof_index].name
            notes.append(f"Part of oneof `{oneof}`: set at most one of its fields.")
        description = "\n\n".join(note for note in notes if note)
        if description:
            schema["description"] = (
                f"{schema['description']}\n\n{description}" if schema.get("description") else description
            )
        return schema

    def _value_schema(self, fld: FieldProto) -> Schema:
        if fld.type in (FieldProto.TYPE_MESSAGE, FieldProto.TYPE_ENUM):
            return self.ref(fld.type_name)
        return dict(_SCALARS[fld.type])

    def _enum(self, name: str) -> Schema:
        enum = self.index.enums[name]
        lines = [self.index.comments.get(name, "")]
        values = []
        for value in enum.value:
            values.append(value.name)
            note = self.index.comments.get(f"{name}.{value.name}", "")
            lines.append(f"- `{value.name}`" + (f": {note}" if note else ""))
        return {"type": "string", "enum": values, "description": "\n".join(line for line in lines if line)}


def _add_limits(schema: Schema, fld: FieldProto, *, mapped: bool) -> None:
    """The sizes every service refuses beyond (runtime.boundary): the field's `limits` option or the defaults."""
    declared = fld.options.Extensions[limits_pb2.limits]
    max_length = declared.max_length or DEFAULT_MAX_LENGTH
    max_items = declared.max_items or DEFAULT_MAX_ITEMS
    if mapped:
        schema["maxProperties"] = max_items
        values = schema["additionalProperties"]
        if values.get("type") == "string":
            values["maxLength"] = max_length
    elif fld.label == FieldProto.LABEL_REPEATED:
        schema["maxItems"] = max_items
        if fld.type == FieldProto.TYPE_STRING:
            schema["items"]["maxLength"] = max_length
    elif fld.type == FieldProto.TYPE_STRING:
        schema["maxLength"] = max_length


def _oneof_exclusions(message: descriptor_pb2.DescriptorProto, exclude: frozenset[str]) -> list[Schema]:
    """JSON Schema for "at most one field of each oneof": no two members present together."""
    members: dict[int, list[str]] = {}
    for fld in message.field:
        if fld.HasField("oneof_index") and not fld.proto3_optional and fld.name not in exclude:
            members.setdefault(fld.oneof_index, []).append(fld.name)
    return [
        {"not": {"required": [first, second]}}
        for names in members.values()
        for i, first in enumerate(names)
        for second in names[i + 1 :]
    ]
