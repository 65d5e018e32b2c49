"""The local mesh's secrets and logs: made once, kept from other accounts, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

from services.support.launcher.credentials import kept_secret, without_secret
from services.support.launcher.process_logs import private_log


def test_a_secret_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "password"
    first = kept_secret(path)
    assert len(first) == 32 and first.replace("-", "").replace("_", "").isalnum()
    assert kept_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["password"]  # no draft left behind
    assert kept_secret(tmp_path / "other") != first


def test_urls_are_shown_without_their_secrets() -> None:
    assert without_secret("postgresql+asyncpg://postgres:s3cret@127.0.0.1:7115/postgres") == (
        "postgresql+asyncpg://***@127.0.0.1:7115/postgres"
    )
    assert without_secret("nats://t0ken@127.0.0.1:7114") == "nats://***@127.0.0.1:7114"
    assert without_secret("nats://127.0.0.1:7114") == "nats://127.0.0.1:7114"
    assert without_secret("http://127.0.0.1:8025/a@b") == "http://127.0.0.1:8025/a@b"


def test_process_logs_and_their_folder_are_the_owner_s_only_even_a_folder_made_open(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)  # as data folders made before 2026-12-03 have it
    folder.chmod(0o755)
    (folder / "edge.log").write_bytes(b"before\n")
    (folder / "edge.log").chmod(0o644)
    with private_log(folder / "edge.log") as log:
        log.write(b"after\n")
    assert (folder / "edge.log").read_bytes() == b"before\nafter\n"  # appended, not replaced
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "edge.log").stat().st_mode) == 0o600
