"""Copies in Postgres. Two loans never take one copy: a circulation step either locks the copy's row
(`FOR UPDATE`) or writes it only if it still has the version it was read with."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from services.catalog.app.queries import Condition
from services.catalog.data.item_types import lendable
from services.catalog.data.tables import books, copies
from services.catalog.domain.copies import BarcodeNotFound, Copy, CopyDetails, CopyNotFound, CopyStatus, same_barcode
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
        not_for_loan=bool(m.get("not_for_loan")),
    )


_STORED: tuple[str, ...] = ("barcode", "branch", "shelf_location", "item_type", "call_number", "status")
_STORED += ("current_loan", "current_hold", "sent_for_hold", "sent_home_from", "updated_at")


def _fields(copy: Copy) -> dict[str, object]:
    """The stored columns a change may touch (`_STORED`; the version is the saving statement's business)."""
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


# The circulation path's statements (look-up, check-out, check-in, reserve, release), built once: building a
# statement and its cache key costs more CPU than Postgres spends on these indexed look-ups. They run on the
# driver in the read-only and circulation units of work (see DriverStatement). The copies a check-out (or a
# barcode look-up) may answer come with their book's title, joined in the same statement (the loan records
# it, so loans needs no GetBook); only the copy's row is locked.
# Each copy read comes with whether its item type is not for loan (a check-out refuses it; its availability
# does not count it).
_NOT_FOR_LOAN = (~lendable(copies.c.item_type)).label("not_for_loan")
_WITH_TITLE = sa.select(copies, books.c.title.label("book_title"), _NOT_FOR_LOAN).join(
    books, books.c.id == copies.c.book_id
)
_BY_ID = DriverStatement(
    sa.select(copies, _NOT_FOR_LOAN).where(
        copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id")
    ),
    read=True,
)
_BY_ID_FOR_UPDATE = DriverStatement(
    _WITH_TITLE.where(
        copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id")
    ).with_for_update(of=copies)
)
# A barcode matches whatever its letter case, through the unique index on lower(barcode).
_BARCODE_MATCHES = sa.func.lower(copies.c.barcode) == sa.func.lower(sa.bindparam("barcode", type_=sa.Text))
_BY_BARCODE = DriverStatement(_WITH_TITLE.where(_BARCODE_MATCHES), read=True)
_ON_LOAN = DriverStatement(_WITH_TITLE.where(copies.c.current_loan == sa.bindparam("loan")).with_for_update(of=copies))
# The reads of a check-out by barcode and of a check-in, which lock nothing (their write checks the version):
# with each copy, how many other copies of its book are AVAILABLE, for the availability its event announces.
_others = copies.alias("others")
_AVAILABLE_OTHERS = (
    sa.select(sa.func.count())
    .where(
        _others.c.book_id == copies.c.book_id,
        _others.c.id != copies.c.id,
        _others.c.status == CopyStatus.AVAILABLE.value,
        lendable(_others.c.item_type),
    )
    .scalar_subquery()
    .label("available_others")
)
_TO_CHECK_OUT = DriverStatement(
    _WITH_TITLE.add_columns(_AVAILABLE_OTHERS).where(
        sa.or_(copies.c.current_loan == sa.bindparam("loan"), _BARCODE_MATCHES)
    ),
    read=True,
)
_HELD_FOR_HOLD = (
    sa.select(_others.c.id).where(_others.c.current_hold == sa.bindparam("hold")).scalar_subquery().label("held")
)
_TO_CHECK_IN = DriverStatement(
    _WITH_TITLE.add_columns(_AVAILABLE_OTHERS, _HELD_FOR_HOLD).where(
        copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id")
    ),
    read=True,
)
_ON_HOLD = DriverStatement(_WITH_TITLE.where(copies.c.current_hold == sa.bindparam("hold")).with_for_update(of=copies))


def _branch_code(code: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """A branch code whatever its case and the spaces around it (runtime/branches.py same_branch)."""
    return sa.func.upper(sa.func.btrim(code), type_=sa.Text)


# Copies another transaction is taking are skipped, not waited for; the branch asked for first. Only copies of
# the item types `only` (an empty array: any) and of none of `excluded`.
_ITEM_TYPES = ARRAY(sa.Text)
_only, _excluded = sa.bindparam("only", type_=_ITEM_TYPES), sa.bindparam("excluded", type_=_ITEM_TYPES)
_FIRST_AVAILABLE = DriverStatement(
    _WITH_TITLE.where(
        copies.c.book_id == sa.bindparam("book_id"),
        copies.c.status == CopyStatus.AVAILABLE.value,
        sa.or_(sa.func.cardinality(_only) == 0, copies.c.item_type == sa.any_(_only)),
        copies.c.item_type != sa.all_(_excluded),
        lendable(copies.c.item_type),  # a reference copy is never lent by book nor set aside for a hold
    )
    .order_by(
        (_branch_code(copies.c.branch) == _branch_code(sa.bindparam("branch", type_=sa.Text))).desc(), copies.c.barcode
    )
    .limit(1)
    .with_for_update(of=copies, skip_locked=True)
)
_BOOK_EXISTS = DriverStatement(sa.select(sa.exists().where(books.c.id == sa.bindparam("book_id")).label("exists")))
_CHANGED = (
    copies.update()
    .where(copies.c.id == sa.bindparam("row_id"), copies.c.version == sa.bindparam("seen_version"))
    .values({name: sa.bindparam(name, type_=copies.c[name].type) for name in (*_STORED, "version")})
    .returning(copies.c.status, copies.c.item_type)
    .cte("changed")
)
# A change and its book's availability after it, in one statement (one round trip, where an UPDATE and a
# count were two). The statement's own reads see the table as it was before its UPDATE, so the changed
# copy counts by the status the UPDATE returned, and the book's other copies from the table (with what
# this transaction changed earlier). `changed` is 0 when someone else changed the copy first.
_SAVE = DriverStatement(
    sa.select(
        sa.select(sa.func.count()).select_from(_CHANGED).scalar_subquery().label("changed"),
        (
            sa.select(sa.func.count())
            .where(
                copies.c.book_id == sa.bindparam("of_book"),
                copies.c.id != sa.bindparam("row_id"),
                copies.c.status == CopyStatus.AVAILABLE.value,
                lendable(copies.c.item_type),
            )
            .scalar_subquery()
            + sa.select(sa.func.count())
            .select_from(_CHANGED)
            .where(_CHANGED.c.status == CopyStatus.AVAILABLE.value, lendable(_CHANGED.c.item_type))
            .scalar_subquery()
        ).label("available"),
    )
)
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
            column, value = _branch_code(column), _branch_code(value)
        where.append(column == value if c.op == "=" else column != value)
    return where


def listing(
    *, book_id: uuid.UUID | None, conditions: Sequence[Condition], after: str | None, limit: int
) -> sa.Select[Any]:
    """A page of a listing: by barcode, from the copies_status_barcode index when it is by status."""
    query = sa.select(copies, _NOT_FOR_LOAN).where(*_where(book_id, conditions)).order_by(copies.c.barcode)
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
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        return await self._one(statement, params, lambda: CopyNotFound(book_id, copy_id))

    async def by_barcode(self, barcode: str) -> Copy:
        return await self._one(_BY_BARCODE, {"barcode": barcode}, lambda: BarcodeNotFound(barcode))

    async def holding(self, *, loan: str = "", hold: str = "") -> Copy | None:
        """The copy out on `loan` (or on the shelf for `hold`), locked; None when there is none."""
        statement, params = (_ON_LOAN, {"loan": loan}) if loan else (_ON_HOLD, {"hold": hold})
        return self._maybe(await self._first(statement, params))

    async def to_check_out(self, *, loan: str, barcode: str) -> tuple[Copy | None, Copy | None, int]:
        rows = await self._fetch(_TO_CHECK_OUT, {"loan": loan, "barcode": barcode})
        found = [(self._track(_to_copy(row)), int(row["available_others"])) for row in rows]  # at most two
        on_loan = next((c for c, _ in found if c.current_loan == loan), None)
        copy, others = next(((c, n) for c, n in found if same_barcode(c.details.barcode, barcode)), (None, 0))
        return on_loan, copy, others

    async def to_check_in(
        self, book_id: uuid.UUID, copy_id: uuid.UUID, *, hold: str
    ) -> tuple[Copy, uuid.UUID | None, int]:
        row = await self._first(_TO_CHECK_IN, {"copy_id": copy_id, "book_id": book_id, "hold": hold or None})
        if row is None:
            raise CopyNotFound(book_id, copy_id)
        return self._track(_to_copy(row)), row["held"], int(row["available_others"])

    async def first_available(
        self, book_id: uuid.UUID, *, prefer_branch: str = "", item_types: ItemTypeFilter = ANY_ITEM_TYPE
    ) -> Copy | None:
        """An AVAILABLE copy of the item types, locked; copies another transaction is taking are skipped, not
        waited for."""
        params = {"book_id": book_id, "branch": prefer_branch}
        params |= {"only": list(item_types.only), "excluded": list(item_types.excluded)}
        return self._maybe(await self._first(_FIRST_AVAILABLE, params))

    async def save(self, copy: Copy) -> int:
        """Writes a change if the row still has the version it was read with (the change bumped it by one);
        returns how many copies of its book are AVAILABLE after it.

        Circulation holds the row's lock, so only a cataloguer's update can lose this race."""
        values = {**_fields(copy), "version": copy.version, "seen_version": copy.version - 1}
        # No savepoint: a refused update ends the unit of work anyway (the error goes to the caller).
        try:
            row = await self._first(_SAVE, {**values, "row_id": copy.id, "of_book": copy.book_id})
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
        row = await self._first(_BOOK_EXISTS, {"book_id": book_id})
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
