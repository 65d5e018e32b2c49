"""Small helpers the loans repositories share: a page of results and the optimistic update."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.support.runtime.errors import Conflict

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total_size: int
    has_more: bool


_VERSIONED_UPDATES: dict[str, sa.Update] = {}


def _versioned_update(table: sa.Table) -> sa.Update:
    statement = _VERSIONED_UPDATES.get(table.name)
    if statement is None:
        statement = table.update().where(
            table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("seen_version")
        )
        _VERSIONED_UPDATES[table.name] = statement
    return statement


async def update_versioned(
    session: AsyncSession, table: sa.Table, *, row_id: uuid.UUID, version: int, values: dict[str, Any], name: str
) -> None:
    """UPDATE ... WHERE id = :id AND version = :seen, bumping the version; Conflict when someone else won."""
    # The parameters that name columns make the SET clause, so one statement per table serves every call.
    parameters = {**values, "version": version + 1, "row_id": row_id, "seen_version": version}
    result = await session.execute(_versioned_update(table), parameters)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{name} was changed concurrently; re-read it and retry", reason="CONCURRENT_CHANGE")
