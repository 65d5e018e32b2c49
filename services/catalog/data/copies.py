"""Copies in Postgres. Two loans never take one copy: a circulation step either locks the copy's row
(`FOR UPDATE`) or writes it only if it still has the version it was read with. The circulation path's
statements, built once, are copy_statements.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from services.catalog.app.queries import Condition
from services.catalog.data.copy_statements import (
    BOOK_EXISTS,
    BY_BARCODE,
    BY_ID,
    BY_ID_FOR_UPDATE,
    FIRST_AVAILABLE,
    NOT_FOR_LOAN,
    ON_HOLD,
    ON_LOAN,
    SAVE,
    TO_CHECK_IN,
    TO_CHECK_OUT,
    branch_code,
)
from services.catalog.data.tables import copies
from services.catalog.domain.copies import BarcodeNotFound, Copy, CopyNotFound
from services.catalog.domain.copy_values import CopyDetails, CopyStatus, same_barcode
from services.catalog.domain.item_types import ANY_ITEM_TYPE, ItemTypeFilter, UnknownItemType
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.driver import INTEGRITY_ERRORS, DriverStatement, violated_constraint
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.repository import TrackingRepository


def _to_copy(m: Mapping[Any, Any]) -> Copy:
    """A copy from a row of the copies table, maybe with its book's title (SQLAlchemy's `row._mapping`, or
    the driver's record)."""
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
        sent_for_hold=m["sent_for_hold"],
        sent_home_from=m["sent_home_from"],
        version=m["version"],
        book_title=m.get("book_title") or "",
        book_language=m.get("book_language") or "",
        not_for_loan=bool(m.get("not_for_loan")),
        item_type_renamed_at=m.get("item_type_renamed_at"),
    )


def _fields(copy: Copy) -> dict[str, object]:
    """The stored columns a change may touch (copy_statements.STORED; the version is the saving statement's
    business)."""
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
        "sent_for_hold": copy.sent_for_hold,
        "sent_home_from": copy.sent_home_from,
        "updated_at": copy.updated_at,
    }


def _translate(error: Exception, batch: Sequence[Copy]) -> Exception:
    constraint = violated_constraint(error)
    if constraint in ("copies_barcode_key", "copies_barcode_any_case"):
        barcode = batch[0].details.barcode if len(batch) == 1 else ""
        message = f"a copy with barcode {barcode} already exists" if barcode else "a barcode is already taken"
        message += " (in any letter case)" if constraint == "copies_barcode_any_case" else ""
        metadata = {"field": "copy.barcode", "barcode": barcode}
        return AlreadyExists(message, reason="BARCODE_TAKEN", metadata=metadata)
    if constraint == "copies_item_type_fkey":  # the type was deleted after the use case found it in the list
        types = sorted({c.details.item_type for c in batch})
        return UnknownItemType(types[0] if len(types) == 1 else ", ".join(types)[:64])
    if constraint in ("copies_current_loan", "copies_current_hold"):
        # A race: twins of one check-out that read before either wrote took two copies, or two copies came back
        # at once for one hold. The loser changed nothing; repeated, it reads what the winner did.
        return Conflict("the loan or hold took another copy meanwhile; retry", reason=CONCURRENT_UPDATE)
    return error


_CONDITION_COLUMNS = {
    "status": copies.c.status,
    "branch": copies.c.branch,
    "item_type": copies.c.item_type,
    "sent_home_from": copies.c.sent_home_from,
}


def _where(book_id: uuid.UUID | None, conditions: Sequence[Condition]) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [] if book_id is None else [copies.c.book_id == book_id]
    for c in conditions:
        column: sa.ColumnElement[Any] = _CONDITION_COLUMNS[c.field]
        value: sa.ColumnElement[Any] = sa.literal(c.value)
        if c.field in ("branch", "sent_home_from"):  # as staff type codes (same_branch): kept in their case
            column, value = branch_code(column), branch_code(value)
        where.append(column == value if c.op == "=" else column != value)
    return where


def listing(
    *, book_id: uuid.UUID | None, conditions: Sequence[Condition], after: str | None, limit: int
) -> sa.Select[Any]:
    """A page of a listing: by barcode, from the copies_status_barcode index when it is by status."""
    query = sa.select(copies, NOT_FOR_LOAN).where(*_where(book_id, conditions)).order_by(copies.c.barcode)
    if after is not None:
        query = query.where(copies.c.barcode > after)
    return query.limit(limit + 1)


class SqlCopyRepository(TrackingRepository):
    async def add_many(self, new_copies: Sequence[Copy]) -> None:
        values = [
            {**_fields(c), "id": c.id, "book_id": c.book_id, "created_at": c.created_at, "version": c.version}
            for c in new_copies
        ]
        try:
            async with self.session.begin_nested():
                await self.session.execute(copies.insert(), values)
        except INTEGRITY_ERRORS as error:
            raise _translate(error, new_copies) from None
        for copy in new_copies:
            self._track(copy)

    async def add(self, copy: Copy) -> None:
        await self.add_many([copy])

    async def get(self, book_id: uuid.UUID, copy_id: uuid.UUID, *, for_update: bool = False) -> Copy:
        params = {"copy_id": copy_id, "book_id": book_id}
        statement = BY_ID_FOR_UPDATE if for_update else BY_ID
        return await self._one(statement, params, lambda: CopyNotFound(book_id, copy_id))

    async def by_barcode(self, barcode: str) -> Copy:
        return await self._one(BY_BARCODE, {"barcode": barcode}, lambda: BarcodeNotFound(barcode))

    async def holding(self, *, loan: str = "", hold: str = "") -> Copy | None:
        """The copy out on `loan` (or on the shelf for `hold`), locked; None when there is none."""
        statement, params = (ON_LOAN, {"loan": loan}) if loan else (ON_HOLD, {"hold": hold})
        return self._maybe(await self._first(statement, params))

    async def to_check_out(self, *, loan: str, barcode: str) -> tuple[Copy | None, Copy | None, int]:
        rows = await self._fetch(TO_CHECK_OUT, {"loan": loan, "barcode": barcode})
        found = [(self._track(_to_copy(row)), int(row["available_others"])) for row in rows]  # at most two
        on_loan = next((c for c, _ in found if c.current_loan == loan), None)
        copy, others = next(((c, n) for c, n in found if same_barcode(c.details.barcode, barcode)), (None, 0))
        return on_loan, copy, others

    async def to_check_in(
        self, book_id: uuid.UUID, copy_id: uuid.UUID, *, hold: str
    ) -> tuple[Copy, uuid.UUID | None, int]:
        row = await self._first(TO_CHECK_IN, {"copy_id": copy_id, "book_id": book_id, "hold": hold or None})
        if row is None:
            raise CopyNotFound(book_id, copy_id)
        return self._track(_to_copy(row)), row["held"], int(row["available_others"])

    async def first_available(
        self,
        book_id: uuid.UUID,
        *,
        prefer_branch: str = "",
        item_types: ItemTypeFilter = ANY_ITEM_TYPE,
        at_branches: Sequence[str] = (),
    ) -> Copy | None:
        """An AVAILABLE copy of the item types (at one of `at_branches` when given), locked; copies another
        transaction is taking are skipped, not waited for."""
        params = {"book_id": book_id, "branch": prefer_branch, "at": list(at_branches)}
        params |= {"only": list(item_types.only), "excluded": list(item_types.excluded)}
        return self._maybe(await self._first(FIRST_AVAILABLE, params))

    async def save(self, copy: Copy) -> int:
        """Writes a change if the row still has the version it was read with (the change bumped it by one);
        returns how many copies of its book are AVAILABLE after it.

        Circulation holds the row's lock, so only a cataloguer's update can lose this race."""
        values = {**_fields(copy), "version": copy.version, "seen_version": copy.version - 1}
        # No savepoint: a refused update ends the unit of work anyway (the error goes to the caller).
        try:
            row = await self._first(SAVE, {**values, "row_id": copy.id, "of_book": copy.book_id})
        except INTEGRITY_ERRORS as error:
            raise _translate(error, [copy]) from None
        if row is None or row["changed"] != 1:
            raise Conflict(f"{copy.name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)
        return int(row["available"])

    async def save_settled(self, copy: Copy) -> None:
        """Writes a change whose events are complete, if the row still has the version it was read with; in a
        single-write block, with its events in the same statement."""
        try:
            await self._update_versioned(
                copies, row_id=copy.id, version=copy.version - 1, values=_fields(copy), name=copy.name, carrying=True
            )
        except INTEGRITY_ERRORS as error:
            raise _translate(error, [copy]) from None

    async def remove(self, copy: Copy) -> None:
        await self.session.execute(copies.delete().where(copies.c.id == copy.id))

    async def book_exists(self, book_id: uuid.UUID) -> bool:
        row = await self._first(BOOK_EXISTS, {"book_id": book_id})
        return bool(row and row["exists"])

    async def list(
        self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition], after: str | None, limit: int
    ) -> list[Copy]:
        """Up to limit + 1 copies by barcode (unique, so the order is stable), of one book or of all."""
        query = listing(book_id=book_id, conditions=conditions, after=after, limit=limit)
        return [_to_copy(r._mapping) for r in (await self.session.execute(query)).all()]

    async def count(self, *, book_id: uuid.UUID | None, conditions: Sequence[Condition]) -> int:
        query = sa.select(sa.func.count()).select_from(copies).where(*_where(book_id, conditions))
        return int(await self.session.scalar(query) or 0)

    async def _one(
        self, statement: DriverStatement, params: Mapping[str, Any], missing: Callable[[], Exception]
    ) -> Copy:
        found = await self._first(statement, params)
        if found is None:
            raise missing()
        return self._track(_to_copy(found))

    def _maybe(self, row: Mapping[Any, Any] | None) -> Copy | None:
        return self._track(_to_copy(row)) if row is not None else None
