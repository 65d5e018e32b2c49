"""The commands that call the edge find the session's mesh by its data folder alone, as an operator with two
meshes on one machine names the one they mean (`--data-dir`, ATHENAEUM_DATA_DIR)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _athenaeum(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.support.launcher.cli", *args]


def _env(**extra: str) -> dict[str, str]:
    # This checkout's code, whatever the venv's editable install points at; no edge named outright.
    env = {key: value for key, value in os.environ.items() if key not in ("ATHENAEUM_EDGE", "ATHENAEUM_DATA_DIR")}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def test_catalog_demo_signs_in_and_loads_into_the_mesh_of_athenaeum_data_dir(mesh, librarian) -> None:
    # The librarian's account exists in this mesh only: another mesh's edge (on the default port) would refuse it.
    demo = subprocess.run(
        _athenaeum("catalog", "demo", "--titles", "3", "--seed", "7", "--email", librarian.email),
        env=_env(ATHENAEUM_DATA_DIR=str(mesh.data_dir), ATHENAEUM_PASSWORD=librarian.password),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "books created" in demo.stdout


def test_events_tail_follows_the_mesh_of_its_data_folder(mesh, edge, librarian, admin) -> None:
    kind = "athenaeum.catalog."
    tail = subprocess.Popen(
        _athenaeum("events", "tail", "--data-dir", str(mesh.data_dir), "--token", admin.access_token, "--type", kind),
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in tail.stdout or ()], daemon=True).start()
    title = f"Tailed {uuid.uuid4().hex[:8]}"
    try:
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while not any("book_created" in line for line in seen):
            assert tail.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, f"no event seen: {''.join(seen)}"
            created = edge.post("/v1/books", json={"title": title}, headers=librarian.headers)
            assert created.status_code == 200, created.text
            try:
                while True:
                    seen.append(lines.get(timeout=1))
            except queue.Empty:
                pass
    finally:
        tail.kill()
        tail.wait()
