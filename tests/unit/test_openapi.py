"""The OpenAPI generator: the committed document is valid and complete, and each mapping rule holds on a
small proto written for the purpose (the API itself has no int64, map or wrapper fields today)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from athenaeum.api.v1 import access_pb2
from services.support.devtools.codegen import ERROR_PROTOS
from services.support.devtools.openapi import DocumentBuilder
from services.support.devtools.openapi_errors import documented_errors
from services.support.devtools.openapi_paths import openapi_path
from services.support.runtime.access import api_service_names, service_descriptor

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "gen" / "docs" / "openapi.json"

SAMPLE_PROTO = """
syntax = "proto3";
package athenaeum.sample.v1;
import "athenaeum/api/v1/access.proto";
import "athenaeum/api/v1/limits.proto";
import "google/api/annotations.proto";
import "google/api/field_behavior.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

// Shelves of a sample library.
service ShelfService {
  // Returns one shelf.
  // Errors: NOT_FOUND (no such shelf), INVALID_ARGUMENT (malformed name (not "racks/{rack}")).
  rpc GetShelf(GetShelfRequest) returns (Shelf) {
    option (athenaeum.api.v1.access) = {audience: AUDIENCE_PUBLIC};
    option (google.api.http) = {
      get: "/v1/{name=racks/*}"
      additional_bindings: {get: "/v1/{name=rooms/*/racks/*}"}
    };
  }
  // Changes a shelf.
  // Errors: ABORTED (stale etag), ALREADY_EXISTS (the label is taken).
  rpc UpdateShelf(UpdateShelfRequest) returns (Shelf) {
    option (athenaeum.api.v1.access) = {audience: AUDIENCE_STAFF or_self: "shelf.owner"};
    option (google.api.http) = {patch: "/v1/{shelf.name=racks/*}" body: "shelf"};
  }
}

// A shelf.
message Shelf {
  // "racks/{rack}".
  string name = 1 [(google.api.field_behavior) = IDENTIFIER];
  // Printed on the shelf, e.g. "A-12".
  string label = 2 [(google.api.field_behavior) = REQUIRED, (athenaeum.api.v1.limits) = {max_length: 12}];
  // Books it can hold.
  int64 capacity = 3;
  // How it is used.
  Kind kind = 4;
  // When it was built.
  google.protobuf.Timestamp create_time = 5 [(google.api.field_behavior) = OUTPUT_ONLY];
  // How long a book may stay.
  google.protobuf.Duration max_stay = 6;
  // Free-form labels.
  map<string, string> tags = 7;
  // The room's own number, if any.
  google.protobuf.Int64Value room_number = 8;
  // Where it stands: one of them.
  oneof place {
    // A room.
    string room = 9;
    // A corridor.
    string corridor = 10;
  }
  // Set once.
  string serial = 11 [(google.api.field_behavior) = IMMUTABLE];
  // Sent, never shown.
  string secret = 12 [(google.api.field_behavior) = INPUT_ONLY];
  // The user who owns it.
  string owner = 13;
}

// Uses of a shelf.
enum Kind {
  // Not said.
  KIND_UNSPECIFIED = 0;
  // Open to readers.
  KIND_OPEN = 1;
}

// The shelf to get.
message GetShelfRequest {
  // "racks/{rack}".
  string name = 1 [(google.api.field_behavior) = REQUIRED];
  // Fields to return.
  google.protobuf.FieldMask read_mask = 2;
  // Only when it holds these kinds.
  repeated Kind kinds = 3;
}

// The shelf to change.
message UpdateShelfRequest {
  // The new state.
  Shelf shelf = 1 [(google.api.field_behavior) = REQUIRED];
  // What to change.
  google.protobuf.FieldMask update_mask = 2;
  // Refused by the edge in a query string, so never a query parameter.
  string current_password = 3;
}
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sample")
    (folder / "athenaeum/sample/v1").mkdir(parents=True)
    (folder / "athenaeum/sample/v1/sample.proto").write_text(SAMPLE_PROTO)
    out = folder / "sample.binpb"
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{folder}", f"-I{ROOT / 'proto'}"]
    command += ["--include_imports", "--include_source_info", f"--descriptor_set_out={out}"]
    subprocess.run([*command, "athenaeum/sample/v1/sample.proto", *ERROR_PROTOS], check=True, capture_output=True)
    descriptors = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    document = DocumentBuilder(descriptors, version="9.9.9").build()
    validate(document)
    return document


def shelf(sample: dict[str, Any]) -> dict[str, Any]:
    return sample["components"]["schemas"]["athenaeum.sample.v1.Shelf"]


def test_the_committed_document_is_valid_openapi_3_1() -> None:
    document = json.loads(DOCUMENT.read_text())
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_rest_binding_of_every_rpc_is_an_operation_with_its_access() -> None:
    document = json.loads(DOCUMENT.read_text())
    operations = [op for item in document["paths"].values() for op in item.values()]
    expected = {}
    for name in api_service_names():
        for method in service_descriptor(name).methods:
            if method.GetOptions().HasExtension(annotations_pb2.http):
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                public = method.GetOptions().Extensions[access_pb2.access].audience == access_pb2.AUDIENCE_PUBLIC
                expected[f"/{name}/{method.name}"] = (1 + len(rule.additional_bindings), public)
    seen: dict[str, list[bool]] = {}
    for op in operations:
        seen.setdefault(op["x-grpc-method"], []).append({} in op["security"])
    assert {path: (len(flags), all(flags)) for path, flags in seen.items()} == expected


def test_path_templates_become_one_parameter_per_segment() -> None:
    path, parameters = openapi_path("/v1/{name=books/*/copies/*}:inspect")
    assert path == "/v1/books/{book}/copies/{copy}:inspect"
    assert [(p.name, p.field_path) for p in parameters] == [("book", "name"), ("copy", "name")]
    assert openapi_path("/v1/{parent=circulationRules/*}")[0] == "/v1/circulationRules/{circulationRule}"


def test_bindings_give_parameters_in_the_path_and_the_query(sample: dict[str, Any]) -> None:
    get = sample["paths"]["/v1/racks/{rack}"]["get"]
    by_name = {p["name"]: p for p in get["parameters"]}
    assert by_name["rack"]["in"] == "path" and by_name["rack"]["required"] is True
    assert by_name["read_mask"] == {**by_name["read_mask"], "in": "query"}
    assert by_name["kinds"]["schema"]["items"] == {"$ref": "#/components/schemas/athenaeum.sample.v1.Kind"}
    assert by_name["kinds"]["explode"] is True
    assert "/v1/rooms/{room}/racks/{rack}" in sample["paths"]
    assert sample["paths"]["/v1/rooms/{room}/racks/{rack}"]["get"]["operationId"] == "ShelfService_GetShelf_2"


def test_a_body_field_is_the_request_body_and_the_rest_is_query(sample: dict[str, Any]) -> None:
    patch = sample["paths"]["/v1/racks/{rack}"]["patch"]
    body = patch["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/athenaeum.sample.v1.Shelf"
    assert [p["name"] for p in patch["parameters"]] == ["rack", "update_mask"]  # not current_password


def test_no_operation_offers_a_query_parameter_the_edge_refuses() -> None:
    """PATCH /v1/users/{user} offered `current_password` in the query, which the edge always answers 400."""
    document = json.loads(DOCUMENT.read_text())
    in_query = {
        (path, verb, parameter["name"])
        for path, item in document["paths"].items()
        for verb, operation in item.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    assert not {entry for entry in in_query if "password" in entry[2].lower()}
    assert ("/v1/users/{user}", "patch", "update_mask") in in_query  # the rest of the operation is still there


def test_scalars_follow_the_proto3_json_mapping(sample: dict[str, Any]) -> None:
    props = shelf(sample)["properties"]
    assert props["capacity"]["type"] == "string" and props["capacity"]["format"] == "int64"
    assert props["kind"]["$ref"].endswith("athenaeum.sample.v1.Kind")
    assert sample["components"]["schemas"]["athenaeum.sample.v1.Kind"]["enum"] == ["KIND_UNSPECIFIED", "KIND_OPEN"]
    assert props["create_time"]["format"] == "date-time"
    assert props["max_stay"]["pattern"].endswith("s$")
    assert props["tags"] == {
        **props["tags"],
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": 10_000},
    }
    assert props["room_number"]["type"] == ["string", "null"]


def test_size_limits_are_the_ones_every_service_enforces(sample: dict[str, Any]) -> None:
    """Declared with `(athenaeum.api.v1.limits)`, or the boundary's defaults."""
    props = shelf(sample)["properties"]
    assert props["label"]["maxLength"] == 12
    assert props["room"]["maxLength"] == 10_000
    assert props["tags"]["maxProperties"] == 1_000


def test_field_behaviours_and_oneofs_are_declared(sample: dict[str, Any]) -> None:
    schema = shelf(sample)
    props = schema["properties"]
    assert schema["required"] == ["label"]
    assert props["name"]["readOnly"] is True and props["create_time"]["readOnly"] is True
    assert props["secret"]["writeOnly"] is True
    assert "Immutable" in props["serial"]["description"]
    assert {"not": {"required": ["room", "corridor"]}} in schema["allOf"]
    assert "oneof `place`" in props["room"]["description"]


def test_comments_become_descriptions_and_examples_of_the_enum(sample: dict[str, Any]) -> None:
    assert shelf(sample)["description"] == "A shelf."
    assert shelf(sample)["properties"]["label"]["description"] == 'Printed on the shelf, e.g. "A-12".'
    kind = sample["components"]["schemas"]["athenaeum.sample.v1.Kind"]["description"]
    assert "`KIND_OPEN`: Open to readers." in kind
    assert sample["tags"] == [{"name": "ShelfService", "description": "Shelves of a sample library."}]


def test_access_decides_security_and_the_documented_errors_the_responses(sample: dict[str, Any]) -> None:
    get = sample["paths"]["/v1/racks/{rack}"]["get"]
    patch = sample["paths"]["/v1/racks/{rack}"]["patch"]
    assert get["security"] == [{}, {"bearerAuth": []}]
    assert patch["security"] == [{"bearerAuth": []}]
    assert "or the user named by `shelf.owner`" in patch["description"]
    assert set(get["responses"]) == {"200", "400", "401", "404", "default"}
    assert set(patch["responses"]) == {"200", "401", "403", "409", "default"}
    assert patch["responses"]["409"]["description"] == "`ABORTED`: stale etag; `ALREADY_EXISTS`: the label is taken."
    status = sample["components"]["schemas"]["google.rpc.Status"]
    detail_types = [
        item.get("properties", {}).get("@type", {}).get("const")
        for item in status["properties"]["details"]["items"]["anyOf"]
    ]
    assert "type.googleapis.com/google.rpc.BadRequest" in detail_types


def test_the_errors_line_is_read_with_nested_parentheses() -> None:
    assert documented_errors("Does it.\nErrors: NOT_FOUND (no such (really) thing), UNAVAILABLE.") == [
        ("NOT_FOUND", "no such (really) thing"),
        ("UNAVAILABLE", ""),
    ]


def test_comments_give_examples(sample: dict[str, Any]) -> None:
    props = shelf(sample)["properties"]
    assert props["label"]["examples"] == ["A-12"]
    assert props["name"]["examples"][0].startswith("racks/")
    parameter = sample["paths"]["/v1/racks/{rack}"]["get"]["parameters"][0]
    assert parameter["schema"]["examples"]
