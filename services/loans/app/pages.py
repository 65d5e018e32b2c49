"""Page tokens of the loans lists (AIP-158): opaque to clients, bound to their query; the cursors they carry."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.loans.app.list_requests import NewestFirst
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import cursor_time, decode_token


def _not_ours() -> InvalidArgument:
    return InvalidArgument.field("page_token", "is not a token this service issued")


def newest_first_cursor(created_at: datetime, row_id: uuid.UUID) -> list[str]:
    """What a newest-first page token carries: the last item's (created_at, id)."""
    return [created_at.isoformat(), str(row_id)]


def newest_first_after(token: str, query: str) -> NewestFirst | None:
    """The (created_at, id) a newest-first page resumes after; None for the first page."""
    cursor = decode_token(token, query)
    if not cursor:
        return None
    try:
        created_at, row_id = cursor
        return cursor_time(created_at), uuid.UUID(str(row_id))
    except ValueError:
        raise _not_ours() from None


def number_after(token: str, query: str) -> int | None:
    """The number (a position or an offset) a page resumes after; None for the first page."""
    cursor = decode_token(token, query)
    if not cursor:
        return None
    try:
        number = int(cursor[0])
    except (ValueError, IndexError, TypeError, OverflowError):  # tokens are not signed: anything may come
        raise _not_ours() from None
    if not 0 <= number < 2**63:  # what Postgres can compare it with
        raise _not_ours()
    return number
