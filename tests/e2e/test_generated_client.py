"""The generated betterproto2 client package works against the real edge, installed on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"


def test_the_client_example_creates_and_reads_a_book_through_the_edge(mesh, librarian) -> None:
    # Only the client's own source on the path: it must not lean on the server's generated code.
    # It signs in as a librarian (adding books is staff work) with the credentials it is given.
    env = {
        **os.environ,
        "PYTHONPATH": str(CLIENT / "src"),
        "ATHENAEUM_EDGE": mesh.edge_grpc_target,
        "ATHENAEUM_EMAIL": librarian.email,
        "ATHENAEUM_PASSWORD": librarian.password,
    }
    result = subprocess.run(
        [sys.executable, "-B", str(CLIENT / "examples" / "get_book.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=CLIENT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("books/")
    assert "Мастер и Маргарита (1967)" in result.stdout
