"""The bundled Postgres listens on its Unix socket only, unless an operator opts in to loopback TCP: on a
loopback port any account of the machine could fill its connection slots without a password, or take the
port while it restarts and be handed the superuser's password (no process is started here)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.processes import Supervisor


def _settings(server: LocalPostgres) -> dict[str, str]:
    argv = server._spec().argv
    pairs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_bundled_postgres_has_no_tcp_listener_by_default(tmp_path: Path) -> None:
    server = LocalPostgres(tmp_path / "postgres", 7115, Supervisor(tmp_path / "logs"))

    assert _settings(server)["listen_addresses"] == ""
    assert _settings(server)["unix_socket_directories"] == str(server.socket_dir)


def test_what_up_shows_and_records_is_the_socket_not_a_port(tmp_path: Path) -> None:
    server = LocalPostgres(tmp_path / "postgres", 7115, Supervisor(tmp_path / "logs"))

    shown = make_url(server.shown_url)
    assert shown.host is None
    assert shown.query == {"host": str(server.socket_dir), "port": "7115"}
    assert server._spec().extra["socket_dir"] == str(server.socket_dir)  # where `status` signs in


def test_tcp_is_an_opt_in_that_drops_who_does_not_finish_signing_in(tmp_path: Path) -> None:
    server = LocalPostgres(tmp_path / "postgres", 7115, Supervisor(tmp_path / "logs"), tcp=True)

    assert _settings(server)["listen_addresses"] == "127.0.0.1"
    assert _settings(server)["authentication_timeout"] == "5s"
    assert (make_url(server.shown_url).host, make_url(server.shown_url).port) == ("127.0.0.1", 7115)
    assert make_url(server.admin_url).host is None  # our own clients still take the socket
