"""Alembic, per service: each service owns its database and its migrations folder
(services/<name>/migrations). Used by the launcher, `athenaeum migrate` and the compose/Helm migrate job."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_engine_from_config
from tenacity import Retrying, before_sleep_log, retry_if_exception, stop_after_attempt, wait_exponential

SERVICES_DIR = Path(__file__).resolve().parents[2]
_MIGRATING = 0x617468_6D6967  # the advisory lock of a database's migration run (locks are per database)
LOCK_TIMEOUT = "5s"
"""How long a migration's statement waits for a table's lock. The old release serves while its successor's
migrations run: an ALTER queued behind a long transaction (a catalog import) would queue every later reader of
that table behind itself, so it gives up instead and the run is tried again a little later."""
LOCK_ATTEMPTS = 5
_LOCK_NOT_AVAILABLE = "55P03"
log = logging.getLogger(__name__)


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(service: str, database_url: str) -> None:
    """Apply every pending migration of `service` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(service, database_url), "head")


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a service's database is, against the migrations of the running code."""

    current: frozenset[str]
    """The revisions the database is at (empty: never migrated)."""
    heads: frozenset[str]
    """Where this code's migrations end."""
    known: frozenset[str]
    """Every revision this code has."""

    @property
    def ready(self) -> bool:
        """At this code's heads, or past them: a revision this code does not know is a newer release's, and
        migrations expand before they contract, so an older pod (rescheduled mid-rollout) still runs on it."""
        return self.current == self.heads or bool(self.current - self.known)


def schema_state(service: str, database_url: str) -> SchemaState:
    """Where `service`'s database is (blocking; call from a thread inside an event loop)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(service, database_url))

    async def current() -> frozenset[str]:
        engine = async_engine_from_config({"url": database_url}, prefix="", poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                heads = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
        finally:
            await engine.dispose()
        return frozenset(heads)

    known = frozenset(revision.revision for revision in script.walk_revisions())
    return SchemaState(asyncio.run(current()), frozenset(script.get_heads()), known)


def run_migrations() -> None:
    """Body of every service's migrations/env.py."""
    if context.is_offline_mode():
        context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online())


async def _run_online() -> None:
    engine = async_engine_from_config(
        context.config.get_section(context.config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with engine.connect() as connection:
        await connection.run_sync(_run_with)
    await engine.dispose()


def _run_with(connection: Connection) -> None:
    # One run at a time per database (two `migrate`s, a migrate job and a person): the next one waits, then
    # finds the revisions applied. A session lock, so it outlasts the commit of each migration.
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATING})
    # Only now: the advisory lock above may wait as long as another run takes.
    connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
    connection.commit()
    context.configure(connection=connection, transaction_per_migration=True)
    # Each migration commits on its own: a retry goes on from the one that waited too long.
    for attempt in Retrying(
        retry=retry_if_exception(_waited_for_a_lock),
        stop=stop_after_attempt(LOCK_ATTEMPTS),
        wait=wait_exponential(multiplier=1, max=30),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    ):
        with attempt:
            _run_pending(connection)
    # After a failure the lock goes with the session: the connection is closed, not pooled (NullPool).
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATING})
    connection.commit()


def _run_pending(connection: Connection) -> None:
    try:
        with context.begin_transaction():
            context.run_migrations()
    except DBAPIError:
        connection.rollback()  # the failed migration's transaction; the ones before it stay committed
        raise


def _waited_for_a_lock(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


def create_messaging_tables_v1() -> None:
    """The outbox, inbox and idempotent-request tables every service has, as first released.

    Frozen: a later change to these tables is a new migration in each service, never an edit here.
    """
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects.postgresql import UUID

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("outbox_unpublished", "outbox", ["seq"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("resource", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def drop_inbox_v2() -> None:
    """The inbox table of the first release went unused: consumers keep their own idempotency records
    (keyed as their work needs), so it goes. Frozen like the function above."""
    from alembic import op

    op.drop_table("inbox")


def request_ledger_v3() -> None:
    """idempotent_requests becomes the request ledger: a claim with its lease and the request's fingerprint
    while the first call runs, and the answer (a response, or a final refusal) kept for retries. Rows made
    before it are committed requests without a stored answer (a retry recalls their resource). Frozen too."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects.postgresql import UUID

    op.add_column("idempotent_requests", sa.Column("state", sa.Text, nullable=False, server_default="COMMITTED"))
    op.add_column("idempotent_requests", sa.Column("fingerprint", sa.LargeBinary))
    op.add_column("idempotent_requests", sa.Column("owner", UUID(as_uuid=True)))
    op.add_column("idempotent_requests", sa.Column("lease_until", sa.DateTime(timezone=True)))
    op.add_column("idempotent_requests", sa.Column("answer", sa.LargeBinary))
    op.add_column("idempotent_requests", sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("idempotent_requests_created", "idempotent_requests", ["created_at"])


def outbox_relay_lease_v4() -> None:
    """The outbox's rows get the lease of the relay publishing them (`relay_lease_until`): a relay takes a
    batch by leasing it, in autocommit, and marks it published once JetStream has it, instead of holding the
    rows locked in a transaction while it publishes (a round trip fewer per batch). Frozen too."""
    import sqlalchemy as sa
    from alembic import op

    op.add_column("outbox", sa.Column("relay_lease_until", sa.DateTime(timezone=True)))
