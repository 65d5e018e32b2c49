"""Small helpers the loans repositories share: a page of results and the optimistic update."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.errors import Conflict

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total_size: int
    has_more: bool


async def update_versioned(
    session: AsyncSession, table: sa.Table, *, row_id: uuid.UUID, version: int, values: dict[str, Any], name: str
) -> None:
    """UPDATE ... WHERE id = :id AND version = :seen, bumping the version; Conflict when someone else won."""
    statement = (
        table.update().where(table.c.id == row_id, table.c.version == version).values(**values, version=version + 1)
    )
    result = await session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{name} was changed concurrently; re-read it and retry", reason="CONCURRENT_CHANGE")
