"""The operator commands that work on a database (`migrate`, `users rotate-keys`, `users restore-admin`, `loans
forget-accounts`) find the Postgres of the mesh `up` runs from the data folder, as `catalog import` finds its
edge, instead of a 127.0.0.1:5432 the laptop mesh never uses; a database named explicitly wins. They reach it
through its socket, never a loopback port (whoever held that port would be handed the password)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote_plus

import pytest
from typer.testing import CliRunner

from services.support.launcher import cli, cli_tools, state
from services.support.launcher.recorded_database import service_database_environment

PORT = 7115
SETTINGS = ("URL", "URL_FILE", "PASSWORD", "PASSWORD_FILE")


def _running_mesh(data_dir: Path) -> Path:
    """A data folder whose mesh (this process, as far as the state file knows) runs Postgres on PORT."""
    (data_dir / "postgres" / "roles").mkdir(parents=True)
    (data_dir / "postgres" / "password").write_text("superuser-secret\n")
    (data_dir / "postgres" / "roles" / "users").write_text("users-secret\n")
    state.write_state(data_dir, [], {}, ready=True)
    recorded = json.loads(state.state_path(data_dir).read_text())
    postgres = {
        "name": "postgres",
        "role": "postgres",
        "port": PORT,
        "password_file": str(data_dir / "postgres/password"),
        "socket_dir": str(data_dir / "postgres/socket"),
    }
    recorded["processes"] = [postgres]
    state.state_path(data_dir).write_text(json.dumps(recorded))
    return data_dir


def _socket(data_dir: Path) -> str:
    """The recorded socket folder and port as URL query parameters (the folder %-encoded)."""
    return f"host={quote_plus(str(data_dir / 'postgres' / 'socket'))}&port={PORT}"


def test_a_service_command_signs_in_as_the_service_s_role_on_the_recorded_server(tmp_path: Path) -> None:
    data_dir = _running_mesh(tmp_path)
    assert service_database_environment("users", data_dir, {}) == {
        "ATHENAEUM_DATABASE_URL": f"postgresql+asyncpg://athenaeum_users@/athenaeum_users?{_socket(data_dir)}",
        "ATHENAEUM_DATABASE_PASSWORD_FILE": str(data_dir / "postgres" / "roles" / "users"),
    }


def test_a_database_named_explicitly_or_no_mesh_running_leaves_the_settings_alone(tmp_path: Path) -> None:
    named = {"ATHENAEUM_DATABASE_URL": "postgresql+asyncpg://u:p@db.example.org/athenaeum_users"}
    assert service_database_environment("users", _running_mesh(tmp_path / "a"), named) == {}
    assert service_database_environment("users", tmp_path / "nothing", {}) == {}


def test_users_rotate_keys_reaches_the_recorded_mesh_s_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.users import cli as users_cli
    from services.users.settings import UsersSettings

    seen: list[str] = []

    def run(command: Any, **_: Any) -> Any:
        command.close()  # not run: only where it would sign in matters here
        seen.append(UsersSettings().database_url)
        return SimpleNamespace(kid="k1", activates_at=datetime(2026, 12, 6, tzinfo=UTC))

    monkeypatch.setattr(users_cli, "run_on_database", run)
    # None: unset while the command runs, and whatever the command sets is undone after it.
    unset: dict[str, str | None] = {f"ATHENAEUM_DATABASE_{name}": None for name in SETTINGS}
    data_dir = _running_mesh(tmp_path)
    environment = {"ATHENAEUM_DATA_DIR": str(data_dir), **unset}
    result = CliRunner().invoke(cli.app, ["users", "rotate-keys"], env=environment)

    assert result.exit_code == 0, result.output
    assert seen == [f"postgresql+asyncpg://athenaeum_users:users-secret@/athenaeum_users?{_socket(data_dir)}"]


def test_migrate_defaults_to_the_recorded_server_with_the_services_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ATHENAEUM_DATABASE_URL", "ATHENAEUM_DATABASE_URL_FILE"):
        monkeypatch.delenv(name, raising=False)
    data_dir = _running_mesh(tmp_path)
    url, roles = cli_tools._server_to_migrate(None, None, data_dir)
    assert url == f"postgresql+asyncpg://postgres:superuser-secret@/postgres?{_socket(data_dir)}"
    assert roles == str(data_dir / "postgres" / "roles" / "{service}")
    given = "postgresql+asyncpg://admin:x@db.example.org/postgres"
    assert cli_tools._server_to_migrate(given, None, data_dir) == (given, None)
    assert cli_tools._server_to_migrate(None, None, tmp_path / "no-mesh") == (None, None)


def test_a_service_command_leaves_the_environment_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command set the recorded database's URL and password file in the process's environment and left
    them there: run in-process by a test, every later test of that process read the mesh's password file
    (gone with the mesh): 45 failed in one CI run."""
    from services.users import cli as users_cli

    monkeypatch.setattr(users_cli, "run_on_database", lambda command, **_: command.close())
    for name in SETTINGS:
        monkeypatch.delenv(f"ATHENAEUM_DATABASE_{name}", raising=False)
    monkeypatch.setenv("ATHENAEUM_DATA_DIR", str(_running_mesh(tmp_path)))
    CliRunner().invoke(cli.app, ["users", "rotate-keys"])
    assert {name for name in SETTINGS if f"ATHENAEUM_DATABASE_{name}" in os.environ} == set()
