"""`athenaeum users rotate-keys`, as the README tells operators to run it, against a real database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.support.devtools.tools import venv_tool
from services.support.runtime.migrations import upgrade_to_head
from services.users.data.tables import signing_keys

pytestmark = pytest.mark.integration


async def _key_count(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(sa.select(sa.func.count()).select_from(signing_keys)) or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "command",
    [[venv_tool("athenaeum"), "users", "rotate-keys"], [sys.executable, "-m", "services.users.cli", "rotate-keys"]],
    ids=["athenaeum", "python -m"],
)
async def test_rotating_keys_adds_a_published_key(postgres, command: list[str]) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "users_cli")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    env = {**os.environ, "ATHENAEUM_DATABASE_URL": url, "ATHENAEUM_KEY_ACTIVATION_DELAY_SECONDS": "60"}
    for _ in range(2):
        result = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "published now, signs from" in result.stdout
    assert await _key_count(url) == 2
