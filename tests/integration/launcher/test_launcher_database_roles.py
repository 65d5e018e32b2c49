"""A role per service: it owns its database and what is in it, reaches no other database, has no power over the
server, and takes over what an older release made as the administrator."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from services.support.launcher.postgres import PostgresServer, asyncpg_dsn

pytestmark = pytest.mark.integration


def _name() -> str:
    return f"roles_{uuid.uuid4().hex[:10]}"


async def _fetch(url: str, query: str) -> object:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        if ";" in query:  # a script: no answer
            return await connection.execute(query)
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def test_a_service_role_owns_its_database_and_can_work_in_it(postgres: PostgresServer) -> None:
    name = _name()
    url = postgres.owned_database(name, "first-password")

    assert make_url(url).username == name
    assert await _fetch(url, "SELECT current_user") == name
    assert (
        await _fetch(url, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()") == name
    )
    # What the migrations and the events service's partition upkeep do as the role.
    await _fetch(url, "CREATE TABLE things (id serial, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")
    await _fetch(url, "CREATE TABLE things_2026 PARTITION OF things FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    await _fetch(url, "CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted: a database owner may
    assert await _fetch(url, "INSERT INTO things (at) VALUES ('2026-05-01') RETURNING id") == 1


async def test_a_service_role_reaches_no_other_database_and_has_no_power_over_the_server(
    postgres: PostgresServer,
) -> None:
    mine, theirs = _name(), _name()
    url = postgres.owned_database(mine, "mine-password")
    postgres.owned_database(theirs, "theirs-password")

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _fetch(make_url(url).set(database=theirs).render_as_string(False), "SELECT 1")
    for the_administrator_s in ("postgres", "template1"):  # closed on a server of the mesh's own
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _fetch(make_url(url).set(database=the_administrator_s).render_as_string(False), "SELECT 1")
    assert (
        await _fetch(url, "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        is False
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _fetch(url, f"CREATE ROLE {mine}_friend LOGIN")


async def test_a_second_provisioning_changes_nothing_but_the_password(postgres: PostgresServer) -> None:
    name = _name()
    old = postgres.owned_database(name, "old-password")
    await _fetch(old, "CREATE TABLE kept (id int)")

    new = postgres.owned_database(name, "new-password")

    with pytest.raises(asyncpg.InvalidPasswordError):
        await _fetch(old, "SELECT 1")
    assert await _fetch(new, "SELECT count(*) FROM kept") == 0


async def test_what_the_administrator_made_before_is_handed_over(postgres: PostgresServer) -> None:
    name = _name()
    admin_url = postgres.create_database(name)  # a release of one account for every service
    await _fetch(
        admin_url,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
        "CREATE TYPE mood AS ENUM ('ok', 'not');"
        "CREATE TABLE loans (id serial PRIMARY KEY, number bigint GENERATED ALWAYS AS IDENTITY, mood mood);"
        "CREATE SEQUENCE numbers;"
        "CREATE VIEW open_loans AS SELECT id FROM loans;"
        "CREATE TABLE events (at date) PARTITION BY RANGE (at);"
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
        "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS 'SELECT 2 * x';",
    )

    url = postgres.owned_database(name, "its-password")

    foreign = await _fetch(
        admin_url,
        f"""SELECT count(*) FROM (
              SELECT relowner AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'S', 'i')
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
              UNION ALL SELECT typowner FROM pg_type WHERE typname = 'mood'
              UNION ALL SELECT proowner FROM pg_proc WHERE proname = 'twice') o
            WHERE o.owner <> '{name}'::regrole""",
    )
    assert foreign == 0
    assert (
        await _fetch(url, "INSERT INTO loans (mood) VALUES ('ok') RETURNING id + twice(nextval('numbers')::int)") == 3
    )
    await _fetch(url, "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
    await _fetch(url, "ALTER TABLE loans ADD COLUMN note text")  # a later migration, as the role


async def test_an_administrator_without_superuser_rights_can_provision(postgres: PostgresServer) -> None:
    """As on a managed server (RDS, Cloud SQL): the migration job's account has CREATEROLE and CREATEDB only."""
    admin = _name()
    await _fetch(postgres.admin_url, f"CREATE ROLE {admin} LOGIN CREATEROLE CREATEDB PASSWORD 'managed-admin'")
    await _fetch(postgres.admin_url, f"GRANT CONNECT ON DATABASE postgres TO {admin}")  # closed to the rest
    managed = PostgresServer(
        make_url(postgres.admin_url).set(username=admin, password="managed-admin").render_as_string(False)
    )
    name = _name()
    made_before = managed.create_database(name)
    await _fetch(made_before, "CREATE TABLE kept (id serial PRIMARY KEY)")

    url = managed.owned_database(name, "its-password")

    assert await _fetch(url, "INSERT INTO kept DEFAULT VALUES RETURNING id") == 1
    assert await _fetch(url, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'kept'") == name


async def test_what_a_role_plants_in_its_database_never_runs_with_the_administrator_s_rights(
    postgres: PostgresServer,
) -> None:
    """CVE-2018-1058's pattern: the role owns its `public` schema, and the administrator provisions inside it."""
    name = _name()
    url = postgres.owned_database(name, "its-password")
    escalate = f"""
        BEGIN
          IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
            EXECUTE 'ALTER ROLE {name} SUPERUSER';
          END IF;"""
    for statement in (
        f"CREATE FUNCTION public.ne(a oid, b regrole) RETURNS boolean LANGUAGE plpgsql AS $f${escalate}"
        " RETURN a OPERATOR(pg_catalog.<>) b::oid; END $f$",
        "CREATE OPERATOR public.<> (LEFTARG = oid, RIGHTARG = regrole, FUNCTION = public.ne)",
        f"CREATE FUNCTION public.format(text, VARIADIC text[]) RETURNS text LANGUAGE plpgsql AS $f${escalate}"
        " RETURN pg_catalog.format($1, VARIADIC $2); END $f$",
        f"CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE plpgsql AS $f${escalate}"
        " RETURN pg_catalog.current_setting($1); END $f$",
        f"ALTER DATABASE {name} SET search_path = public, pg_catalog",
    ):
        await _fetch(url, statement)

    postgres.owned_database(name, "its-password")  # the next `up` or `migrate`
    postgres.create_database(name)

    assert await _fetch(postgres.admin_url, f"SELECT rolsuper FROM pg_roles WHERE rolname = '{name}'") is False
