"""Idempotent mutations: a `request_id` names one request, which acts once and has one answer.

The runtime (`runtime.mutations`) claims each request_id before the servicer runs and stores the answer after;
this module is the part use cases see. `RequestLog.remember` writes, in the use case's own transaction, that
the request's change is committed: the record and the change commit together or not at all, so a retry after
a crash either finds the change done or runs it from the start, never half of it twice.

One row per request_id (`idempotent_requests`):
- IN_PROGRESS: an attempt owns the id (`owner`) until `lease_until`; a twin waits for it, and a retry after the
  lease (the attempt died) takes it over.
- COMMITTED: the change is committed (`resource` names what it made); `answer` is the serialized response, or
  the google.rpc.Status of a final refusal when `refused`. Until the answer is stored the owner keeps its lease
  (the call may have more to do after its commit, e.g. put a copy on the hold shelf): a twin waits for it. A
  COMMITTED row without an answer after the lease (the process died between the commit and storing it) is
  answered by running the use case again, which recalls the resource.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as upsert

from services.support.runtime.driver import DriverStatement
from services.support.runtime.errors import Conflict, InvalidArgument
from services.support.runtime.outbox import messaging_metadata
from services.support.runtime.repository import TrackingRepository

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


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt at a request: it owns the request_id's row while it runs. `recalling`: it runs again to
    recall a change it committed (its answer was not stored), so the row may say COMMITTED."""

    request_id: uuid.UUID
    operation: str
    owner: uuid.UUID
    recalling: bool = False


current_attempt: ContextVar[Attempt | None] = ContextVar("athenaeum_attempt", default=None)
"""Set by the runtime around the servicer, so `remember` commits only for the attempt that owns the id."""

# Built once: every idempotent mutation of every service runs them.
_RECALL = DriverStatement(
    sa.select(REQUESTS.c.operation, REQUESTS.c.resource).where(
        REQUESTS.c.request_id == sa.bindparam("rid"), REQUESTS.c.state == COMMITTED
    ),
    read=True,
)
_new = upsert(REQUESTS).values(
    request_id=sa.bindparam("rid"),
    operation=sa.bindparam("op"),
    resource=sa.bindparam("made"),
    state=COMMITTED,
    owner=sa.bindparam("attempt"),
)
# A fresh id is inserted as committed; an id the runtime claimed is committed only by the attempt that owns it.
_REMEMBER = DriverStatement(
    _new.on_conflict_do_update(
        index_elements=[REQUESTS.c.request_id],
        set_={"state": COMMITTED, "resource": _new.excluded.resource},
        where=(REQUESTS.c.owner == _new.excluded.owner) & (REQUESTS.c.state == IN_PROGRESS),
    ).returning(REQUESTS.c.request_id)
)


def parse_request_id(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument.field("request_id", "must be a UUID") from None


class RequestLog(TrackingRepository):
    """The use cases' side of idempotency, inside their unit of work's transaction."""

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        """The resource a committed earlier call with this id produced, if any."""
        if request_id is None:
            return None
        attempt = current_attempt.get()
        if attempt is not None and attempt.request_id == request_id and not attempt.recalling:
            return None  # this attempt claimed the id: nothing is committed under it (only its own remember could)
        row = await self._first(_RECALL, {"rid": request_id})
        if row is None:
            return None
        if row["operation"] != operation:
            raise InvalidArgument.field("request_id", f"was already used for {row['operation']}")
        return str(row["resource"])

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        """Record, in this transaction, that the request's change is made; Conflict (REQUEST_IN_PROGRESS)
        when another attempt owns the id or committed it first (this transaction must then be abandoned)."""
        if request_id is None:
            return
        attempt = current_attempt.get()
        owner = attempt.owner if attempt is not None and attempt.request_id == request_id else None
        parameters = {"rid": request_id, "op": operation, "made": resource, "attempt": owner}
        if await self._first(_REMEMBER, parameters) is None:
            raise Conflict(
                "a request with this request_id is already being processed; retry it",
                reason="REQUEST_IN_PROGRESS",
                retry_after=1.0,
            )
