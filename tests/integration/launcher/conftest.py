"""Fixtures of the launcher's own tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A fresh temporary folder that Postgres's account (when tests run as root) can traverse."""
    path = Path(tempfile.mkdtemp(prefix="athenaeum-launcher-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
