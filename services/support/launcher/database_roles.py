"""A Postgres role per service, owning that service's database and nothing else.

With one account for every service, "a database per service" isolated nothing: a service taken over could read
and rewrite every other service's data (the accounts and their password hashes included). Each service now signs
in as a role of its own, named after its database, which owns that database and everything in it (the events
service makes partitions as it runs, so it needs to own its tables, not only to write them) and may connect to no
other database. Only the administrator's account, used by `up` and `migrate`, creates roles and databases.

Provisioning is idempotent and runs at every `up` and `migrate`: the password is set again (the kept one or the
operator's secret is the truth, so rotating it is changing the secret and migrating), and objects a release
before this one made as the administrator are handed over to the role.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import make_url

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
CREATING_DATABASES = 0x617468_6462  # the advisory lock (in the admin database) of whoever creates databases

# Relations first: a table's sequences (serial, identity) change owner with it and refuse to on their own.
_HAND_OVER = """
DO $$
DECLARE
    role name := current_setting('athenaeum.owner');
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS relation FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner <> role::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', item.relation, role);
    END LOOP;
    FOR item IN
        SELECT c.oid::regclass AS relation FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> role::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', item.relation, role);
    END LOOP;
    FOR item IN
        SELECT t.oid::regtype AS type FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND t.typowner <> role::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO %I', item.type, role);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS routine FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner <> role::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.routine, role);
    END LOOP;
END $$
"""


ADMIN_SESSION = {"search_path": "pg_catalog, pg_temp"}
"""Every connection the administrator makes: functions and operators only from pg_catalog. A service's role owns
its database (and its `public` schema), so with the default search_path an operator it planted there, `<>` on
(oid, regrole) say, ran with the administrator's rights in the hand-over below and made the role a superuser
(CVE-2018-1058's pattern). Sent at connection start, it also outranks a search_path the role set as its
database's default."""


async def admin_connection(dsn: str) -> Any:
    """An asyncpg connection as the administrator, its search_path pinned (ADMIN_SESSION)."""
    import asyncpg

    return await asyncpg.connect(dsn, timeout=10, server_settings=ADMIN_SESSION)


async def owner_of(admin_dsn: str, database: str) -> str | None:
    """The role owning `database` (None: there is no such database)."""
    connection = await admin_connection(admin_dsn)
    try:
        owner = await connection.fetchval(
            "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = $1", database
        )
        return str(owner) if owner is not None else None
    finally:
        await connection.close()


def role_url(admin_url: str, database: str, password: str) -> str:
    """The SQLAlchemy URL a service signs in with: its role (named as its database), on the admin's server."""
    url = make_url(admin_url).set(username=database, password=password, database=database)
    return url.render_as_string(hide_password=False)


async def provision(admin_dsn: str, database: str, password: str) -> None:
    """Make (or bring up to date) the role `database` with `password`, owning the database `database` and the
    objects in it, and the only one besides the administrator allowed to connect to it."""
    if not _NAME.match(database):
        raise ValueError(f"refusing database name {database!r}")
    connection = await admin_connection(admin_dsn)
    try:
        # One caller at a time (another `migrate`, a test session): CREATE ROLE and DATABASE are not idempotent.
        await connection.execute(f"SELECT pg_advisory_lock({CREATING_DATABASES})")
        await _role(connection, database, password)
        await _owned_database(connection, database)
    finally:
        await connection.close()  # and the lock with it
    inside = await admin_connection(make_url(admin_dsn).set(database=database).render_as_string(False))
    try:
        async with inside.transaction():
            await inside.execute("SET LOCAL search_path = pg_catalog, pg_temp")  # and again, whatever came before
            await inside.execute("SELECT pg_catalog.set_config('athenaeum.owner', $1, true)", database)
            await inside.execute(_HAND_OVER)
    finally:
        await inside.close()


async def _role(connection: Any, role: str, password: str) -> None:
    exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    # DDL takes no parameters: Postgres quotes the name and the password itself.
    statement = await connection.fetchval(
        "SELECT format('%s ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',"
        " $1::text, $2::text, $3::text)",
        "ALTER" if exists else "CREATE",
        role,
        password,
    )
    await connection.execute(statement)
    if not await connection.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        # A managed server's administrator (CREATEROLE, CREATEDB, no superuser) may give a database to a role,
        # and hand over what it made, only as a member of that role.
        await connection.execute(await connection.fetchval("SELECT format('GRANT %I TO CURRENT_USER', $1::text)", role))


async def _owned_database(connection: Any, database: str) -> None:
    exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
    template = "ALTER DATABASE %1$I OWNER TO %1$I" if exists else "CREATE DATABASE %1$I OWNER %1$I"
    for step in (template, "REVOKE ALL ON DATABASE %1$I FROM PUBLIC"):
        statement = await connection.fetchval("SELECT format($1::text, $2::text)", step, database)
        await connection.execute(statement)
