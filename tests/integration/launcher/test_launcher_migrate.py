"""`athenaeum migrate` against a real server: a refused sign-in is told in one line, and two runs at once (two
operators, a CI job and a person) both end well: the databases and the schema are made once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from services.support.launcher.cli import app
from services.support.launcher.postgres import PostgresServer, _create_database, asyncpg_dsn
from services.support.runtime.migrations import schema_state

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_migrate_with_a_wrong_password_says_so_in_one_line(postgres: PostgresServer) -> None:
    wrong = make_url(postgres.admin_url).set(password="WRONG").render_as_string(hide_password=False)

    result = CliRunner().invoke(app, ["migrate", "--database-url", wrong, "--only", "users"], env={"COLUMNS": "300"})

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "password authentication failed" in lines[0] and "--database-url" in lines[0]


async def test_a_database_two_callers_create_at_once_is_created_for_both(postgres: PostgresServer) -> None:
    dsn = asyncpg_dsn(postgres.admin_url)
    for _ in range(5):
        name = f"race_{uuid.uuid4().hex[:12]}"
        await asyncio.gather(*(_create_database(dsn, name) for _ in range(4)))


def test_two_migrations_of_one_database_at_once_apply_each_revision_once(postgres: PostgresServer) -> None:
    url = postgres.fresh_database("migrate_race")
    code = "import os; from services.support.runtime import migrations; "
    code += "migrations.upgrade_to_head('catalog', os.environ['URL'])"
    environment = {**os.environ, "URL": url}  # not on a command line, which every account may read
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    told = [run.communicate(timeout=120)[1] for run in runs]
    failures = [text[-600:] for run, text in zip(runs, told, strict=True) if run.returncode != 0]

    assert failures == []
    assert schema_state("catalog", url).ready


def test_migrate_with_role_passwords_leaves_each_service_its_own_role(
    postgres: PostgresServer, launcher_dir: Path
) -> None:
    from services.support.launcher.credentials import kept_secret

    # The session mesh's own passwords (it may be running on this server): the same roles, not other ones.
    folder = launcher_dir / "mesh" / "postgres" / "roles"
    password = kept_secret(folder / "loans")
    template = str(folder / "{service}")

    result = CliRunner().invoke(
        app, ["migrate", "--database-url", postgres.admin_url, "--only", "loans", "--role-passwords", template]
    )

    assert result.exit_code == 0, result.output
    own = make_url(postgres.admin_url).set(username="athenaeum_loans", password=password, database="athenaeum_loans")
    assert schema_state("loans", own.render_as_string(hide_password=False)).ready
    refused = CliRunner().invoke(app, ["migrate", "--database-url", postgres.admin_url, "--role-passwords", "x"])
    assert refused.exit_code == 2 and "{service}" in refused.output
    # As the administrator, a role's database would run what the role planted in it: refused.
    as_admin = CliRunner().invoke(
        app, ["migrate", "--database-url", postgres.admin_url, "--only", "loans"], env={"COLUMNS": "300"}
    )
    assert as_admin.exit_code == 2 and "athenaeum_loans belongs to its service's own role" in as_admin.output
