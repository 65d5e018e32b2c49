"""Idempotent mutations: a `request_id` seen before returns the first result instead of acting twice.

The remembered id is written in the same transaction as the change, so a retry after a lost response finds it.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.support.runtime.errors import Conflict, InvalidArgument
from services.support.runtime.outbox import messaging_metadata

REQUESTS = sa.Table(
    "idempotent_requests",
    messaging_metadata,
    sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("resource", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Built once: every idempotent mutation of every service runs it.
_RECALL = sa.select(REQUESTS.c.operation, REQUESTS.c.resource).where(
    REQUESTS.c.request_id == sa.bindparam("request_id")
)


def parse_request_id(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument.field("request_id", "must be a UUID") from None


class RequestLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        """The resource a previous call with this id produced, if any."""
        if request_id is None:
            return None
        row = (await self._session.execute(_RECALL, {"request_id": request_id})).first()
        if row is None:
            return None
        if row.operation != operation:
            raise InvalidArgument.field("request_id", f"was already used for {row.operation}")
        return str(row.resource)

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        if request_id is None:
            return
        # No savepoint: every caller abandons its transaction on Conflict, so it costs two round trips for nothing.
        try:
            await self._session.execute(
                REQUESTS.insert(), {"request_id": request_id, "operation": operation, "resource": resource}
            )
        except IntegrityError:
            # A concurrent call with the same id committed first; a retry will return its result.
            raise Conflict(
                "a request with this request_id is already being processed; retry it",
                reason="REQUEST_IN_PROGRESS",
            ) from None
