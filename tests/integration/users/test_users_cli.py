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
from services.support.runtime.outbox import OUTBOX
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


def _restore_admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "services.users.cli", "restore-admin", *args]
    # Wide enough that no message is wrapped inside the error box (a longer temporary path split "does not exist").
    wide = {**os.environ, "COLUMNS": "400", **env}
    return subprocess.run(command, env=wide, capture_output=True, text=True, timeout=120, check=False)


async def test_restore_admin_tells_what_it_refuses_in_one_line(postgres, tmp_path) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "users_cli")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    short = tmp_path / "password"
    short.write_text("short\n")
    latin1 = tmp_path / "latin1"
    latin1.write_bytes("pässwörd-long-enough".encode("latin-1"))
    env = {"ATHENAEUM_DATABASE_URL": url}
    cases = [
        (("not an email", "--password-file", str(short)), "refused: email: must be an email address"),
        (("admin@example.org", "--password-file", str(latin1)), "not UTF-8 text"),
        (("admin@example.org", "--password-file", str(tmp_path / "missing")), "does not exist"),
    ]
    for args, said in cases:
        result = await asyncio.to_thread(_restore_admin, env, *args)
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0 and said in output and "Traceback" not in output, output


async def test_restore_admin_without_a_reachable_database_says_where_to_look(tmp_path, free_port_source) -> None:
    password = tmp_path / "password"
    password.write_text("a long enough password\n")
    nowhere = f"postgresql+asyncpg://postgres:x@127.0.0.1:{next(free_port_source)}/athenaeum_users"
    result = await asyncio.to_thread(
        _restore_admin, {"ATHENAEUM_DATABASE_URL": nowhere}, "admin@example.org", "--password-file", str(password)
    )
    output = " ".join(result.stdout.split())
    assert result.returncode == 1
    assert output.startswith("the users database cannot be used") and "ATHENAEUM_DATABASE_URL" in output


async def test_restore_admin_says_so_when_the_sign_outs_are_not_on_the_bus(postgres, tmp_path) -> None:
    """No users service relays the command's events (it is stopped, or NATS is away): the admin is restored,
    and the command says its sign-outs are not confirmed yet instead of returning as if they were."""
    url = await asyncio.to_thread(postgres.fresh_database, "users_cli_unannounced")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    password = tmp_path / "password"
    password.write_text("a long enough password\n")
    env = {"ATHENAEUM_DATABASE_URL": url, "ATHENAEUM_ANNOUNCE_TIMEOUT_SECONDS": "0.5"}
    result = await asyncio.to_thread(_restore_admin, env, "admin@example.org", "--password-file", str(password))
    output = " ".join(result.stdout.split())
    assert result.returncode == 1, output
    assert output.startswith("the admin is restored") and "not yet on the message bus" in output, output
    assert "again to confirm" in output and "refused" not in output and "Traceback" not in output, output
    assert await _unpublished(url) > 0  # left for the service's relay


async def _unpublished(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(sa.select(sa.func.count()).select_from(OUTBOX).where(
                OUTBOX.c.published_at.is_(None))) or 0)  # fmt: skip
    finally:
        await engine.dispose()


async def test_rotating_with_another_passphrase_is_refused_and_adds_nothing(postgres) -> None:
    """A typo in the passphrase (or none set, the dev one used) added a key the service could not open: every
    sign-in, refresh and the JWKS failed mesh-wide until the row was deleted by hand."""
    url = await asyncio.to_thread(postgres.fresh_database, "users_cli_passphrase")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    command = [sys.executable, "-m", "services.users.cli", "rotate-keys"]
    base = {**os.environ, "ATHENAEUM_DATABASE_URL": url, "ATHENAEUM_KEY_ACTIVATION_DELAY_SECONDS": "60"}
    for passphrase, code in (("the-right-passphrase-1", 0), ("a-wrong-passphrase-2", 1)):
        env = {**base, "ATHENAEUM_SIGNING_KEY_PASSPHRASE": passphrase}
        result = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == code, result.stdout + result.stderr
    assert "does not open the stored signing keys" in " ".join(result.stdout.split()), result.stdout
    assert result.stderr == "", result.stderr
    assert await _key_count(url) == 1
