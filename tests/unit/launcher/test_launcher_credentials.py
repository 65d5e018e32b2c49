"""The local mesh's secrets: made once, kept from other accounts, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

from services.support.launcher.credentials import kept_secret, without_secret


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
