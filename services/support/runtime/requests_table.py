"""The request ledger's table (`idempotent_requests`, one row per request_id; its states are described in
`runtime.idempotency`) and the statement that records a request's change as committed, which a transaction
runs by itself and a single write carries (`runtime.carrying`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID, Insert
from sqlalchemy.sql.dml import ReturningInsert

from services.support.runtime.conflicts import REQUEST_IN_PROGRESS
from services.support.runtime.errors import Conflict
from services.support.runtime.outbox import messaging_metadata

IN_PROGRESS = "IN_PROGRESS"
COMMITTED = "COMMITTED"

REQUESTS = sa.Table(
    "idempotent_requests",
    messaging_metadata,
    sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("resource", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("state", sa.Text, nullable=False, server_default=COMMITTED),
    sa.Column("fingerprint", sa.LargeBinary),
    sa.Column("owner", UUID(as_uuid=True)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("answer", sa.LargeBinary),
    sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("idempotent_requests_created", "created_at"),
)

RECORD_COLUMNS = ("request_id", "operation", "resource", "state", "owner")
"""What `committed_record` inserts, in this order: the id, the operation, the resource made, COMMITTED, and
the attempt that owns the id (NULL when the call was not claimed by the runtime)."""


def committed_record(new: Insert) -> ReturningInsert[Any]:
    """`new`, an INSERT of a request's record (`RECORD_COLUMNS`), as the upsert that records the request's
    change committed: a fresh id is inserted as committed; an id the runtime claimed is committed only by the
    attempt that owns it. It returns the id when it recorded it, no row when another attempt owns the id."""
    return new.on_conflict_do_update(
        index_elements=[REQUESTS.c.request_id],
        set_={"state": COMMITTED, "resource": new.excluded.resource},
        where=(REQUESTS.c.owner == new.excluded.owner) & (REQUESTS.c.state == IN_PROGRESS),
    ).returning(REQUESTS.c.request_id)


def request_taken() -> Conflict:
    """What a change hears when its request's record could not be made: another attempt owns the id or
    committed it first."""
    return Conflict(
        "a request with this request_id is already being processed; retry it",
        reason=REQUEST_IN_PROGRESS,
        retry_after=1.0,
    )
