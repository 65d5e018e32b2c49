"""Copies in Postgres. Circulation reads lock the row (`FOR UPDATE`) so two loans can never take one copy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.catalog.domain import CopyStatus, copy_name
from services.catalog.inventory import BarcodeNotFound, Copy, CopyDetails, CopyNotFound
from services.catalog.queries import Condition
from services.catalog.tables import books, copies
from services.support.runtime.db import TrackingRepository, violated_constraint
from services.support.runtime.errors import AlreadyExists, Conflict


@dataclass(frozen=True, slots=True)
class CopyPage:
    copies: list[Copy]
    total_size: int
    has_more: bool


def _to_copy(row: sa.Row[tuple[object, ...]]) -> Copy:
    m = row._mapping
    details = CopyDetails(
        barcode=m["barcode"],
        branch=m["branch"],
        shelf_location=m["shelf_location"],
        item_type=m["item_type"],
        call_number=m["call_number"],
    )
    return Copy(
        id=m["id"],
        book_id=m["book_id"],
        details=details,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        status=CopyStatus(m["status"]),
        current_loan=m["current_loan"] or "",
        current_hold=m["current_hold"] or "",
        version=m["version"],
    )


def _fields(copy: Copy) -> dict[str, object]:
    d = copy.details
    return {
        "barcode": d.barcode,
        "branch": d.branch,
        "shelf_location": d.shelf_location,
        "item_type": d.item_type,
        "call_number": d.call_number,
        "status": copy.status.value,
        "current_loan": copy.current_loan or None,
        "current_hold": copy.current_hold or None,
        "updated_at": copy.updated_at,
        "version": copy.version,
    }


def _translate(error: IntegrityError, batch: Sequence[Copy]) -> Exception:
    constraint = violated_constraint(error)
    if constraint == "copies_barcode_key":
        barcode = batch[0].details.barcode if len(batch) == 1 else ""
        message = f"a copy with barcode {barcode} already exists" if barcode else "a barcode is already taken"
        metadata = {"field": "copy.barcode", "barcode": barcode}
        return AlreadyExists(message, reason="BARCODE_TAKEN", metadata=metadata)
    if constraint in ("copies_current_loan", "copies_current_hold"):
        # Our row lock and advisory lock make this unreachable for well-behaved callers; a retry resolves it.
        return Conflict("the loan or hold already holds another copy", reason="CONCURRENT_CIRCULATION")
    return error


# The circulation path's statements (look-up, check-out, check-in), built once: building a statement and
# its cache key costs more CPU than Postgres spends on these indexed look-ups.
_BY_ID = sa.select(copies).where(copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_BARCODE = sa.select(copies).where(copies.c.barcode == sa.bindparam("barcode"))
_BY_BARCODE_FOR_UPDATE = _BY_BARCODE.with_for_update()
_ON_LOAN = sa.select(copies).where(copies.c.current_loan == sa.bindparam("loan")).with_for_update()
_ON_HOLD = sa.select(copies).where(copies.c.current_hold == sa.bindparam("hold")).with_for_update()
_AVAILABLE_COUNT = sa.select(sa.func.count()).where(
    copies.c.book_id == sa.bindparam("book_id"), copies.c.status == CopyStatus.AVAILABLE.value
)
# The parameters that name columns (those of _fields) make the SET clause.
_UPDATE_COPY = copies.update().where(copies.c.id == sa.bindparam("copy_id"))

_CONDITION_COLUMNS = {"status": copies.c.status, "branch": copies.c.branch, "item_type": copies.c.item_type}


class SqlCopyRepository(TrackingRepository):
    async def add_many(self, new_copies: Sequence[Copy]) -> None:
        values = [{**_fields(c), "id": c.id, "book_id": c.book_id, "created_at": c.created_at} for c in new_copies]
        try:
            async with self.session.begin_nested():
                await self.session.execute(copies.insert(), values)
        except IntegrityError as error:
            raise _translate(error, new_copies) from None
        for copy in new_copies:
            self._track(copy)

    async def add(self, copy: Copy) -> None:
        await self.add_many([copy])

    async def get(self, book_id: uuid.UUID, copy_id: uuid.UUID, *, lock: bool = False) -> Copy:
        query = _BY_ID_FOR_UPDATE if lock else _BY_ID
        params = {"copy_id": copy_id, "book_id": book_id}
        return await self._one(query, params, lambda: CopyNotFound(copy_name(book_id, copy_id)))

    async def by_barcode(self, barcode: str, *, lock: bool = False) -> Copy:
        query = _BY_BARCODE_FOR_UPDATE if lock else _BY_BARCODE
        return await self._one(query, {"barcode": barcode}, lambda: BarcodeNotFound(barcode))

    async def holding(self, *, loan: str = "", hold: str = "") -> Copy | None:
        """The copy out on `loan` (or on the shelf for `hold`), locked; None when there is none."""
        query, params = (_ON_LOAN, {"loan": loan}) if loan else (_ON_HOLD, {"hold": hold})
        row = (await self.session.execute(query, params)).first()
        return self._track(_to_copy(row)) if row else None

    async def first_available(self, book_id: uuid.UUID, *, prefer_branch: str = "") -> Copy | None:
        """An AVAILABLE copy, locked; copies another transaction is taking are skipped, not waited for."""
        query = (
            sa.select(copies)
            .where(copies.c.book_id == book_id, copies.c.status == CopyStatus.AVAILABLE.value)
            .order_by((copies.c.branch == prefer_branch).desc(), copies.c.barcode)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = (await self.session.execute(query)).first()
        return self._track(_to_copy(row)) if row else None

    async def save(self, copy: Copy) -> None:
        # No savepoint: a refused update ends the unit of work anyway (the error goes to the caller).
        try:
            await self.session.execute(_UPDATE_COPY, {**_fields(copy), "copy_id": copy.id})
        except IntegrityError as error:
            raise _translate(error, [copy]) from None

    async def remove(self, copy: Copy) -> None:
        await self.session.execute(copies.delete().where(copies.c.id == copy.id))

    async def available_count(self, book_id: uuid.UUID) -> int:
        return int(await self.session.scalar(_AVAILABLE_COUNT, {"book_id": book_id}) or 0)

    async def book_exists(self, book_id: uuid.UUID) -> bool:
        return bool(await self.session.scalar(sa.select(sa.exists().where(books.c.id == book_id))))

    async def list(
        self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition], after: str | None, limit: int
    ) -> CopyPage:
        """Copies by barcode (unique, so the order is stable), of one book or of all."""
        where: list[sa.ColumnElement[bool]] = [] if book_id is None else [copies.c.book_id == book_id]
        for c in conditions:
            column = _CONDITION_COLUMNS[c.field]
            where.append(column == c.value if c.op == "=" else column != c.value)
        query = sa.select(copies).where(*where).order_by(copies.c.barcode).limit(limit + 1)
        if after is not None:
            query = query.where(copies.c.barcode > after)
        rows = (await self.session.execute(query)).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(copies).where(*where))
        return CopyPage([_to_copy(r) for r in rows[:limit]], int(total or 0), len(rows) > limit)

    async def _one(self, query: sa.Select[Any], params: dict[str, object], missing: Callable[[], Exception]) -> Copy:
        row = (await self.session.execute(query, params)).first()
        if row is None:
            raise missing()
        return self._track(_to_copy(row))
