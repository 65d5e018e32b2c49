"""Generated code: fresh in the repository, stale files detected, one command brings it back."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from services.support.devtools import codegen
from services.support.devtools.tools import ToolNotFound, buf_path
from services.support.mesh.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what code generation reads and writes, to break without touching the repository."""
    ignore = shutil.ignore_patterns(*codegen.IGNORED_NAMES)
    for relative in (*codegen.INPUTS, *codegen.GENERATED):
        source, target = ROOT / relative, tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    return tmp_path


def test_generated_code_in_the_repository_is_fresh() -> None:
    assert codegen.stale_files(ROOT) == [], "run `python -m services.support.devtools.codegen`"


def test_edited_missing_and_leftover_files_are_reported_stale(checkout: Path) -> None:
    (checkout / "gen/python/athenaeum/catalog/v1/catalog_pb2.py").write_text("# edited by hand\n")
    (checkout / "clients/python/src/athenaeum_client/generated/athenaeum/users/v1/__init__.py").unlink()
    (checkout / "gen/python/athenaeum/catalog/v1/removed_pb2.py").write_text("")

    assert codegen.stale_files(checkout) == [
        "gen/python/athenaeum/catalog/v1/catalog_pb2.py",
        "gen/python/athenaeum/catalog/v1/removed_pb2.py",
        "clients/python/src/athenaeum_client/generated/athenaeum/users/v1/__init__.py",
    ]


def test_a_proto_change_makes_the_outputs_stale_until_regenerated(checkout: Path) -> None:
    proto = checkout / "proto/athenaeum/catalog/v1/catalog.proto"
    proto.write_text(proto.read_text() + "\nmessage ShelfLabel {\n  string text = 1;\n}\n")

    stale = codegen.stale_files(checkout)
    assert "gen/python/athenaeum/catalog/v1/catalog_pb2.py" in stale
    assert "gen/descriptor/athenaeum.binpb" in stale
    assert "clients/python/src/athenaeum_client/generated/athenaeum/catalog/v1/__init__.py" in stale

    codegen.generate(checkout)
    assert codegen.stale_files(checkout) == []


def test_check_exits_non_zero_when_stale(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert codegen.main(["--check", "--root", str(checkout)]) == 0
    (checkout / "gen/descriptor/athenaeum.binpb").write_bytes(b"")

    assert codegen.main(["--check", "--root", str(checkout)]) == 1
    assert "stale: gen/descriptor/athenaeum.binpb" in capsys.readouterr().out


def test_descriptor_set_serves_every_registry_service_and_error_details() -> None:
    descriptors = descriptor_pb2.FileDescriptorSet.FromString((ROOT / codegen.DESCRIPTOR_OUT).read_bytes())
    services = {f"{file.package}.{s.name}" for file in descriptors.file for s in file.service}
    messages = {f"{file.package}.{m.name}" for file in descriptors.file for m in file.message_type}

    assert {name for spec in SERVICES for name in spec.grpc_services} <= services
    assert {"google.rpc.Status", "google.rpc.ErrorInfo", "google.rpc.BadRequest"} <= messages


def test_google_python_modules_come_from_the_wheel_not_from_gen() -> None:
    assert (ROOT / "gen/python/athenaeum/catalog/v1/catalog_pb2.py").is_file()
    assert not (ROOT / "gen/python/google").exists()


def test_buf_comes_from_the_wheel_next_to_the_interpreter() -> None:
    assert Path(buf_path()).parent == Path(sys.executable).parent


def test_a_missing_tool_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))

    with pytest.raises(ToolNotFound, match="pip install buf-bin"):
        buf_path()
