"""The API contract: buf lint and breaking checks, documented errors, REST mappings, event envelopes."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

import athenaeum
from services.support.devtools.tools import buf_path
from services.support.mesh.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]

# RPCs with no google.api.http mapping on purpose; everything else must be reachable over REST.
WITHOUT_REST = {
    # Mesh-internal: only the loans service calls them, through its sidecar; no REST user needs them.
    "athenaeum.catalog.v1.CatalogService.CheckOutCopy",
    "athenaeum.catalog.v1.CatalogService.CheckInCopy",
    "athenaeum.catalog.v1.CatalogService.ReserveCopy",
    "athenaeum.catalog.v1.CatalogService.ReleaseCopy",
    "athenaeum.catalog.v1.CatalogService.ShelveHeldCopy",
    "athenaeum.catalog.v1.CatalogService.ReportHeldCopyMissing",
    "athenaeum.catalog.v1.CatalogService.SendCopyHome",
    "athenaeum.catalog.v1.CatalogService.ReceiveCopyHome",
    "athenaeum.catalog.v1.CatalogService.BatchGetBookAvailability",
    "athenaeum.users.v1.UsersService.GetBorrowingEligibility",
    "athenaeum.loans.v1.LoansService.GetClosingStanding",  # users, before it closes an account
    # Streaming: gRPC clients only.
    "athenaeum.catalog.v1.CatalogService.ImportBooks",
    "athenaeum.events.v1.EventsService.WatchEvents",
    "athenaeum.events.v1.EventsService.StreamRecordEvents",
}

# Method-name prefixes of mutations a client may retry; their requests must carry request_id.
RETRYABLE_MUTATIONS = (
    "Create", "Update", "Delete", "Issue", "Return", "Renew", "Assess", "Pay", "Waive", "Place",
    "Cancel", "Send", "Retry", "Register", "CheckOut", "CheckIn", "Reserve", "Release", "Import",
    "Reconcile",
)  # fmt: skip


def _buf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([buf_path(), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def _pb2_modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(athenaeum.__path__, prefix="athenaeum."):
        if info.name.endswith("_pb2"):
            yield importlib.import_module(info.name)


def _services() -> list[ServiceDescriptor]:
    return [service for module in _pb2_modules() for service in module.DESCRIPTOR.services_by_name.values()]


def _methods() -> list[MethodDescriptor]:
    return [method for service in _services() for method in service.methods]


def test_buf_lint_is_clean() -> None:
    result = _buf("lint")
    assert result.returncode == 0, result.stdout + result.stderr


RELEASES = ROOT / "proto" / "releases"


def _last_release() -> Path:
    """The image of the last released API (`buf build -o proto/releases/vX.Y.Z.binpb` at each release tag)."""
    images = sorted(RELEASES.glob("v*.binpb"), key=lambda p: tuple(int(n) for n in p.stem[1:].split(".")))
    assert images, "no released API image under proto/releases"
    return images[-1]


def test_no_breaking_change_since_the_last_release() -> None:
    result = _buf("breaking", "--against", str(_last_release()))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_breaking_check_catches_a_removed_field(tmp_path: Path) -> None:
    """The check above can fail: the same command refuses an API that dropped a released field."""
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    users = tmp_path / "proto" / "athenaeum" / "users" / "v1" / "users.proto"
    users.write_text(re.sub(r"\n\s*string display_name = \d+[^;]*;", "\n", users.read_text(), count=1))
    result = subprocess.run(
        [buf_path(), "breaking", "--against", str(_last_release())], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0 and "display_name" in result.stdout, result.stdout + result.stderr


def test_every_rpc_documents_its_errors(tmp_path: Path) -> None:
    # Comments are not in the _pb2 descriptors; a buf image keeps them (source code info).
    image_path = tmp_path / "image.binpb"
    built = _buf("build", "-o", str(image_path))
    assert built.returncode == 0, built.stderr
    image = descriptor_pb2.FileDescriptorSet.FromString(image_path.read_bytes())
    undocumented = []
    for file in image.file:
        if not file.name.startswith("athenaeum/"):
            continue
        comments = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
        for s, service in enumerate(file.service):
            for m, method in enumerate(service.method):
                # Path of a method in FileDescriptorProto: service = field 6, method = field 2.
                if "Errors:" not in comments.get((6, s, 2, m), ""):
                    undocumented.append(f"{file.package}.{service.name}.{method.name}")
    assert undocumented == []


def test_every_public_rpc_has_a_rest_mapping() -> None:
    unmapped = {m.full_name for m in _methods() if not m.GetOptions().HasExtension(annotations_pb2.http)}
    assert unmapped == WITHOUT_REST


def test_mesh_internal_rpcs_are_not_exposed_over_rest() -> None:
    exposed = {m.full_name for m in _methods() if m.GetOptions().HasExtension(annotations_pb2.http)}
    assert exposed.isdisjoint(WITHOUT_REST)


def test_every_registry_service_is_defined_in_the_protos() -> None:
    defined = {service.full_name for service in _services()}
    registered = {name for spec in SERVICES for name in spec.grpc_services}
    assert registered == defined


def test_retryable_mutations_take_a_request_id() -> None:
    missing = [
        m.full_name
        for m in _methods()
        if m.name.startswith(RETRYABLE_MUTATIONS) and "request_id" not in m.input_type.fields_by_name
    ]
    assert missing == []


def test_every_request_message_belongs_to_one_rpc() -> None:
    inputs = [m.input_type.full_name for m in _methods()]
    assert sorted(inputs) == sorted(set(inputs))


def test_event_payloads_start_with_id_and_time() -> None:
    payloads = [
        message
        for module in _pb2_modules()
        if module.__name__.endswith(".events_pb2") and not module.DESCRIPTOR.services_by_name
        for message in module.DESCRIPTOR.message_types_by_name.values()
    ]
    assert payloads, "no event payloads found"
    for message in payloads:
        event_id, occur_time = message.fields_by_number.get(1), message.fields_by_number.get(2)
        assert event_id is not None and event_id.name == "event_id", message.full_name
        assert event_id.type == event_id.TYPE_STRING, message.full_name
        assert occur_time is not None and occur_time.name == "occur_time", message.full_name
        assert occur_time.message_type.full_name == "google.protobuf.Timestamp", message.full_name


def test_message_names_are_unique_across_packages() -> None:
    names = [message.name for module in _pb2_modules() for message in module.DESCRIPTOR.message_types_by_name.values()]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert duplicates == []
