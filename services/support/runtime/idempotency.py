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
from sqlalchemy.dialects.postgresql import insert as upsert

from services.support.runtime.carrying import RequestRecord
from services.support.runtime.driver import DriverStatement
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.repository import TrackingRepository
from services.support.runtime.requests_table import (
    COMMITTED,
    IN_PROGRESS,
    RECORD_COLUMNS,
    REQUESTS,
    committed_record,
    request_taken,
)

__all__ = ["COMMITTED", "IN_PROGRESS", "REQUESTS", "Attempt", "RequestLog", "current_attempt", "parse_request_id"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt at a request: it owns the request_id's row while it runs. `recalling`: it runs again to
    recall a change it committed (its answer was not stored), so the row may say COMMITTED. `first`: its
    claim made the row (the id was new), so no attempt before it can have committed anything under the id."""

    request_id: uuid.UUID
    operation: str
    owner: uuid.UUID
    recalling: bool = False
    first: bool = False


current_attempt: ContextVar[Attempt | None] = ContextVar("athenaeum_attempt", default=None)
"""Set by the runtime around the servicer, so `remember` commits only for the attempt that owns the id."""

_P = sa.bindparam
# Built once: every idempotent mutation of every service runs them.
_RECALL = DriverStatement(
    sa.select(REQUESTS.c.operation, REQUESTS.c.resource).where(
        REQUESTS.c.request_id == sa.bindparam("rid"), REQUESTS.c.state == COMMITTED
    ),
    read=True,
)
_REMEMBER = DriverStatement(
    committed_record(
        upsert(REQUESTS).values(
            dict(zip(RECORD_COLUMNS, (_P("rid"), _P("op"), _P("made"), COMMITTED, _P("attempt")), strict=True))
        )
    )
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

    def is_first_attempt(self, request_id: uuid.UUID | None) -> bool:
        """This call is the first with its request_id (the runtime claimed the id afresh), so nothing can be
        committed under it yet: a use case that keeps its request_id on its own rows need not look for them
        (no I/O). False without a request_id, or when the call was not claimed by the runtime."""
        attempt = current_attempt.get()
        return request_id is not None and attempt is not None and attempt.request_id == request_id and attempt.first

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

    def _keep_for_the_write(self, record: RequestRecord) -> bool:
        """In a single-write block: the record is kept for the block's write to carry (True)."""
        access = self._driver_access
        if access is None or access.keep_request is None:
            return False
        access.keep_request(record)
        return True

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        """Record, in this transaction, that the request's change is made; Conflict (REQUEST_IN_PROGRESS)
        when another attempt owns the id or committed it first (this transaction must then be abandoned). In a
        single-write block, called before its write: the write carries the record (`runtime.carrying`)."""
        if request_id is None:
            return
        attempt = current_attempt.get()
        owner = attempt.owner if attempt is not None and attempt.request_id == request_id else None
        if self._keep_for_the_write((request_id, operation, resource, owner)):
            return  # a single-write block's write carries it (and says so if it could not be made)
        parameters = {"rid": request_id, "op": operation, "made": resource, "attempt": owner}
        if await self._first(_REMEMBER, parameters) is None:
            raise request_taken()
