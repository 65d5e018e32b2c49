"""The init container of a Kubernetes pod waits for its database's migrations: the migration job runs beside
the pods (so `helm install --wait` cannot deadlock), and no pod starts on an older schema."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.support.runtime.migrations import SchemaState, schema_state, upgrade_to_head

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


async def test_a_fresh_database_is_behind_until_migrated(postgres: Any) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "schema_catalog")

    before = await asyncio.to_thread(schema_state, "catalog", url)
    assert before.current == frozenset() and before.heads and not before.ready
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    after = await asyncio.to_thread(schema_state, "catalog", url)
    assert after.current == after.heads and after.ready


def test_a_database_a_newer_release_migrated_still_serves_older_pods() -> None:
    heads = frozenset({"b2"})
    known = frozenset({"a1", "b2"})

    assert SchemaState(frozenset({"c3"}), heads, known).ready  # c3: a newer release's revision
    assert not SchemaState(frozenset({"a1"}), heads, known).ready


def test_the_init_container_command_waits_then_returns_once_migrated(postgres: Any) -> None:
    url = postgres.fresh_database("schema_users")
    env = {**os.environ, "ATHENAEUM_DATABASE_URL": url, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen/python'}"}
    command = [sys.executable, "-m", "services.support.mesh.containers", "wait-for-schema", "users"]
    waiting = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert waiting.stdout is not None
        seen = ""
        while "waiting for" not in seen:  # it looked, and found no schema yet
            line = waiting.stdout.readline()
            assert line, f"exited ({waiting.wait()}) before waiting: {seen}"
            seen += line
        assert waiting.poll() is None

        upgrade_to_head("users", url)

        assert waiting.wait(60) == 0
        assert "the users database schema is current" in waiting.stdout.read()
    finally:
        waiting.kill()
        waiting.wait()
