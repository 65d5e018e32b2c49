"""PostgreSQL servers as the launcher and the tests use them: one we may create databases on (its admin URL),
and the URLs and DSNs to reach it. local_postgres.py runs one of our own.
"""

from __future__ import annotations

import contextlib
import re
import uuid

from sqlalchemy.engine import make_url

from services.support.launcher.database_roles import CREATING_DATABASES, admin_connection, provision, role_url
from services.support.launcher.readiness import run_coroutine

SUPERUSER = "postgres"
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def loopback_url(port: int, password: str) -> str:
    """The superuser's URL of a local server over loopback TCP (the kept passwords are URL-safe)."""
    return f"postgresql+asyncpg://{SUPERUSER}:{password}@127.0.0.1:{port}/postgres"


def asyncpg_dsn(database_url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://...) as a DSN asyncpg accepts."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """A server we may create databases on; `admin_url` points at its `postgres` database."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url

    @property
    def shown_url(self) -> str:
        """The server's URL as people and their tools (psql) reach it; printed without its password."""
        return self.admin_url

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL of `database` on this server."""
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """Create `name` unless it exists; returns its URL."""
        if not _DATABASE_NAME.match(name):
            raise ValueError(f"refusing database name {name!r}")
        run_coroutine(_create_database(asyncpg_dsn(self.admin_url), name))
        return self.url_for(name)

    def owned_database(self, name: str, password: str) -> str:
        """Make `name` the database of a role of its own (database_roles.py); the URL that role signs in with."""
        run_coroutine(provision(asyncpg_dsn(self.admin_url), name, password))
        return role_url(self.admin_url, name, password)

    def fresh_database(self, prefix: str = "test") -> str:
        """Create a new, empty database with a unique name; returns its URL."""
        return self.create_database(f"{prefix}_{uuid.uuid4().hex[:12]}")

    def accepts_connections(self) -> bool:
        """Whether a connection to the admin database succeeds right now."""
        return run_coroutine(_can_connect(asyncpg_dsn(self.admin_url)))

    def answers(self) -> bool:
        """Whether the server answers at all (a refused login counts: it needs no password to know)."""
        return run_coroutine(_can_connect(asyncpg_dsn(self.admin_url), refusal_counts=True))


async def _can_connect(dsn: str, *, refusal_counts: bool = False) -> bool:
    import asyncpg

    try:
        connection = await asyncpg.connect(dsn, timeout=2)
    except asyncpg.InvalidAuthorizationSpecificationError:
        return refusal_counts
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def _create_database(dsn: str, name: str) -> None:
    import asyncpg

    connection = await admin_connection(dsn)
    try:
        # One caller at a time looks and creates (another `migrate`, a test session); one that got in some
        # other way first is fine too: the loser of a race is told UniqueViolation, not DuplicateDatabase.
        await connection.execute(f"SELECT pg_advisory_lock({CREATING_DATABASES})")
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            await connection.execute(f'CREATE DATABASE "{name}"')  # the name was checked against a strict pattern
    finally:
        await connection.close()  # and the lock with it
