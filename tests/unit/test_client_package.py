"""The Python client package stands on its own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_client_imports_nothing_of_the_server() -> None:
    """Installable on its own: no module of the package reaches for the server's code or generated stubs."""
    package = ROOT / "clients/python/src/athenaeum_client"
    leaks = []
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            leaks += [f"{module.name}: {name}" for name in names if name.split(".")[0] in ("athenaeum", "services")]
    assert leaks == []
