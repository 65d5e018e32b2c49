"""The bundled Postgres: starts, serves, keeps its data across a restart, leaves nothing behind, and lets in
only who has the superuser's password."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import asyncpg
import psutil
import pytest
from launcher_helpers import wait_gone
from sqlalchemy.engine import make_url

from services.support.launcher.cli_tools import process_health
from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.postgres import PostgresServer, asyncpg_dsn
from services.support.launcher.processes import Supervisor
from services.support.launcher.state import describe
from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration


async def test_the_session_postgres_accepts_a_connection(postgres: PostgresServer) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()


async def test_a_fresh_database_is_created_empty_and_only_once(postgres: PostgresServer) -> None:
    url = postgres.fresh_database("launcher")
    name = make_url(url).database

    assert postgres.create_database(name) == url  # a second call is a no-op, not an error
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await connection.fetchval("SELECT current_database()") == name
        assert await connection.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await connection.close()


async def _query(url: str, *statements: str) -> object:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        result = None
        for statement in statements:
            result = await connection.fetchval(statement)
        return result
    finally:
        await connection.close()


async def test_postgres_keeps_its_data_across_a_restart_without_a_second_initdb(shared_dir: Path) -> None:
    with Supervisor(shared_dir / "logs") as supervisor:
        server = LocalPostgres(shared_dir / "postgres", next(free_ports()), supervisor)
        server.start()
        url = server.create_database("kept")
        await _query(url, "CREATE TABLE book (title text)", "INSERT INTO book VALUES ('Dune')")
        initialised = (server.data_dir / "PG_VERSION").stat().st_mtime_ns
        server.stop()
        assert not server.accepts_connections()

        supervisor.process(server.name).start()
        server.wait_ready()

        assert await _query(url, "SELECT title FROM book") == "Dune"
        assert (server.data_dir / "PG_VERSION").stat().st_mtime_ns == initialised


def test_stopping_postgres_stops_the_server_and_all_its_backends(shared_dir: Path) -> None:
    with Supervisor(shared_dir / "logs") as supervisor:
        server = LocalPostgres(shared_dir / "postgres", next(free_ports()), supervisor)
        process = server.start()
        assert process.pid is not None
        family = [process.pid, *(child.pid for child in psutil.Process(process.pid).children(recursive=True))]
        assert len(family) > 1  # the postmaster and its background workers

        server.stop()

        assert wait_gone(family) == []


def _without_password(url: str) -> str:
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)  # set() would keep it


async def test_a_connection_without_the_superuser_s_password_is_refused(postgres: PostgresServer) -> None:
    without_password = _without_password(postgres.admin_url)
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
        await asyncpg.connect(asyncpg_dsn(without_password))
    assert PostgresServer(without_password).answers() and not PostgresServer(without_password).accepts_connections()


async def test_a_cluster_that_trusted_loopback_requires_the_password_once_started_again(shared_dir: Path) -> None:
    root = shared_dir / "postgres"
    with Supervisor(shared_dir / "logs") as supervisor:
        server = LocalPostgres(root, next(free_ports()), supervisor)
        server.start()
        await _query(server.admin_url, "ALTER ROLE postgres PASSWORD NULL")  # as clusters made before 2026-12-03
        rules = server.data_dir / "pg_hba.conf"
        rules.write_text(rules.read_text().replace("scram-sha-256", "trust"))
        server.stop()
    assert stat.S_IMODE((root / "password").stat().st_mode) == 0o600
    with Supervisor(shared_dir / "logs-again") as supervisor:
        again = LocalPostgres(root, server.port, supervisor)
        again.start()
        assert await _query(again.admin_url, "SELECT 1") == 1
        without_password = _without_password(again.admin_url)
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
            await asyncpg.connect(asyncpg_dsn(without_password))
        assert "trust" not in rules.read_text().split("# TYPE", 1)[-1]


async def test_our_clients_connect_through_the_socket_in_a_folder_only_the_server_s_account_enters(
    postgres: PostgresServer,
) -> None:
    assert isinstance(postgres, LocalPostgres)
    assert await _query(postgres.admin_url, "SELECT inet_client_addr() IS NULL") is True  # NULL: a Unix socket
    assert stat.S_IMODE(postgres.socket_dir.stat().st_mode) == 0o700


async def test_the_url_shown_to_people_is_loopback_tcp_which_asks_for_the_password(postgres: PostgresServer) -> None:
    assert isinstance(postgres, LocalPostgres)
    shown = make_url(postgres.shown_url)
    assert (shown.host, shown.port) == ("127.0.0.1", postgres.port)  # what psql takes as it is
    assert await _query(postgres.shown_url, "SELECT inet_client_addr() IS NOT NULL") is True
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
        await asyncpg.connect(asyncpg_dsn(_without_password(postgres.shown_url)))


async def test_a_data_folder_too_deep_for_a_socket_address_still_gets_a_server(shared_dir: Path) -> None:
    deep = shared_dir / ("nested-" * 6) / ("deeper-" * 6)  # past the 107 bytes of a Unix socket's address
    with Supervisor(shared_dir / "logs") as supervisor:
        server = LocalPostgres(deep / "postgres", next(free_ports()), supervisor)
        server.start()
        try:
            assert await _query(server.admin_url, "SELECT inet_client_addr() IS NULL") is True
        finally:
            server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root launcher runs Postgres as another account")
def test_as_root_the_server_runs_as_an_account_of_its_own_not_the_shared_nobody(postgres: PostgresServer) -> None:
    assert isinstance(postgres, LocalPostgres)
    owners = {psutil.Process(pid).username() for pid in _server_family(postgres)}
    assert owners == {"athenaeum-postgres"}
    assert postgres.data_dir.owner() == postgres.socket_dir.owner() == "athenaeum-postgres"


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root launcher runs Postgres as another account")
async def test_a_data_folder_an_earlier_launcher_gave_to_nobody_is_taken_over(shared_dir: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    with Supervisor(shared_dir / "logs") as supervisor:
        server = LocalPostgres(shared_dir / "postgres", next(free_ports()), supervisor)
        server.start()
        url = server.create_database("kept")
        await _query(url, "CREATE TABLE book (title text)", "INSERT INTO book VALUES ('Dune')")
        server.stop()
        for parent, _, files in os.walk(server.data_dir):
            for path in (parent, *(os.path.join(parent, name) for name in files)):
                os.lchown(path, nobody.pw_uid, nobody.pw_gid)
    with Supervisor(shared_dir / "logs-again") as supervisor:
        again = LocalPostgres(server.root, server.port, supervisor)
        again.start()

        assert await _query(url, "SELECT title FROM book") == "Dune"
        assert {path.owner() for path in again.data_dir.rglob("*")} == {"athenaeum-postgres"}


def _server_family(server: LocalPostgres) -> list[int]:
    pid = server._supervisor.process(server.name).pid
    assert pid is not None
    return [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]


def test_status_signs_in_with_the_kept_password_and_leaves_no_failed_sign_in_in_the_log(shared_dir: Path) -> None:
    with Supervisor(shared_dir / "logs") as supervisor:
        server = LocalPostgres(shared_dir / "postgres", next(free_ports()), supervisor)
        entry = describe(server.start())
        wrong = shared_dir / "wrong-password"
        wrong.write_text("not-the-password")

        assert process_health(entry) == "OK"
        log = (shared_dir / "logs" / "postgres.log").read_text()
        assert "authentication failed" not in log
        assert process_health({**entry, "password_file": str(wrong)}) == "NOT ACCEPTING"
        assert process_health({**entry, "password_file": str(shared_dir / "gone")}).startswith("NOT CHECKED")
