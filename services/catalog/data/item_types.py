"""Item types in Postgres: a small table copies refer to (a foreign key, the last guard behind the use cases)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.catalog.data.tables import copies, item_types
from services.catalog.domain.item_types import ItemType, ItemTypeExists, ItemTypeInUse, ItemTypeNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.driver import INTEGRITY_ERRORS, violated_constraint
from services.support.runtime.errors import Conflict
from services.support.runtime.repository import TrackingRepository

NOT_FOR_LOAN_CODES = sa.select(item_types.c.code).where(item_types.c.not_for_loan).scalar_subquery()
"""The codes of the types that may not be lent: a copy of one never counts as available, nor is picked."""


RENAMED_AT = (
    sa.select(item_types.c.renamed_at)
    .where(item_types.c.code == copies.c.item_type)
    .scalar_subquery()
    .label("item_type_renamed_at")
)
"""When a copy's item type took its code (NULL: never renamed), read with the copy."""


def lendable(item_type: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Whether a copy of this item type may be lent (its type is not among the not-for-loan ones)."""
    return item_type.not_in(NOT_FOR_LOAN_CODES)


def _to_item_type(m: Mapping[Any, Any]) -> ItemType:
    return ItemType(
        code=m["code"],
        description=m["description"],
        not_for_loan=m["not_for_loan"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
        renamed_at=m.get("renamed_at"),
    )


def _fields(kind: ItemType) -> dict[str, object]:
    return {
        "description": kind.description,
        "not_for_loan": kind.not_for_loan,
        "updated_at": kind.updated_at,
        "version": kind.version,
    }


class SqlItemTypeRepository(TrackingRepository):
    async def add(self, kind: ItemType) -> None:
        values = {**_fields(kind), "code": kind.code, "created_at": kind.created_at, "renamed_at": kind.renamed_at}
        try:
            async with self.session.begin_nested():
                await self.session.execute(item_types.insert(), values)
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "item_types_pkey":
                raise ItemTypeExists(kind.code) from None
            raise
        self._track(kind)

    async def get(self, code: str, *, for_update: bool = False) -> ItemType:
        query = sa.select(item_types).where(item_types.c.code == code)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).first()
        if row is None:
            raise ItemTypeNotFound(code)
        return self._track(_to_item_type(row._mapping))

    async def list(self, *, after: str | None, limit: int) -> list[ItemType]:
        query = sa.select(item_types).order_by(item_types.c.code).limit(limit + 1)
        if after is not None:
            query = query.where(item_types.c.code > after)
        return [_to_item_type(r._mapping) for r in (await self.session.execute(query)).all()]

    async def count(self) -> int:
        return int(await self.session.scalar(sa.select(sa.func.count()).select_from(item_types)) or 0)

    async def known(self, codes: Sequence[str]) -> dict[str, bool]:
        if not codes:
            return {}
        query = sa.select(item_types.c.code, item_types.c.not_for_loan).where(item_types.c.code.in_(list(codes)))
        return {code: flag for code, flag in (await self.session.execute(query)).all()}

    async def copies_of(self, code: str) -> int:
        query = sa.select(sa.func.count()).select_from(copies).where(copies.c.item_type == code)
        return int(await self.session.scalar(query) or 0)

    async def move_copies(self, code: str, to: str, *, now: datetime) -> int:
        # Each copy changes (a new etag): one read before would otherwise write its old type back.
        statement = (
            copies.update()
            .where(copies.c.item_type == code)
            .values(item_type=to, updated_at=now, version=copies.c.version + 1)
        )
        return int((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def save(self, kind: ItemType) -> None:
        statement = (
            item_types.update()
            .where(item_types.c.code == kind.code, item_types.c.version == kind.version - 1)
            .values(_fields(kind))
        )
        if (await self.session.execute(statement)).rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"{kind.name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)

    async def remove(self, kind: ItemType) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(item_types.delete().where(item_types.c.code == kind.code))
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "copies_item_type_fkey":  # a copy of it was added meanwhile
                raise ItemTypeInUse(kind.code, await self.copies_of(kind.code)) from None
            raise
