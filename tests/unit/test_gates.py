"""The gates CI keeps: ruff (lint and format) and mypy over the whole code base, as `./athenaeum test` runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from test_architecture import NOT_YET_RESHAPED

from services.support.devtools.tools import venv_tool

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run(venv_tool("ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted() -> None:
    result = _run(venv_tool("ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_no_error() -> None:
    """With the pydantic plugin; strict on every domain/ and app/ (pyproject's [tool.mypy])."""
    result = _run(sys.executable, "-m", "mypy", "--no-incremental")
    errors = [line for line in result.stdout.splitlines() if re.match(r"[^:]+:\d+: error:", line)]
    pending = tuple(f"services/{name}/" for name in NOT_YET_RESHAPED)
    errors = [line for line in errors if not line.startswith(pending)]
    assert errors == [], "\n".join(errors)
