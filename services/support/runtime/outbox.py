"""Transactional outbox: events are rows written in the same transaction as the change they describe,
then relayed to JetStream with `Nats-Msg-Id` = event id, so JetStream drops a re-send after a crash (the
relay: outbox_relay.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from services.support.runtime.callers import current_caller
from services.support.runtime.identity import ANONYMOUS, EDGE_CALLER, acting_user
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.tracing import trace_headers
from services.support.runtime.upkeep import BATCH_ROWS

messaging_metadata = sa.MetaData()

OUTBOX = sa.Table(
    "outbox",
    messaging_metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("relay_lease_until", sa.DateTime(timezone=True)),
    sa.Index("outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A domain event encoded for the wire (a serialized proto)."""

    event_id: uuid.UUID
    subject: str
    event_type: str
    payload: bytes
    occurred_at: datetime
    headers: dict[str, str] = field(default_factory=dict)

    COLUMNS: ClassVar[tuple[str, ...]] = ("event_id", "subject", "event_type", "payload", "headers", "occurred_at")
    """The outbox columns `row()` fills."""

    def row(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "subject": self.subject,
            "event_type": self.event_type,
            "payload": self.payload,
            # The trace and the user of the request that recorded the event travel with it to its consumers.
            "headers": {**trace_headers(), **actor_header(), **self.headers},
            "occurred_at": self.occurred_at,
        }


def actor_header() -> dict[str, str]:
    """Who made the call that is committing: the signed-in user (a peer's call made for one names them: a
    librarian's issue checks the copy out in the catalog), or ANONYMOUS for a call from outside the mesh
    without one (registering, signing in); nothing for a peer's own call or a background job."""
    if user := acting_user():
        return {ACTOR_HEADER: user}
    return {ACTOR_HEADER: ANONYMOUS} if current_caller.get() == EDGE_CALLER else {}


PUBLISHED_LONG_AGO = OUTBOX.delete().where(
    OUTBOX.c.seq.in_(
        sa.select(OUTBOX.c.seq)
        .where(OUTBOX.c.published_at < sa.func.now() - sa.bindparam("keep", type_=sa.Interval))
        .limit(BATCH_ROWS)
    )
)
"""Rows published more than `keep` ago (`outbox_kept_hours`): JetStream and the events service's audit have
them; kept forever, they were a loan service's largest table within a year."""
