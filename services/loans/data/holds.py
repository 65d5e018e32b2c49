"""Persistence of holds; the queue is the order of `seq` among a book's WAITING holds."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from services.loans.app.hold_queries import HoldCursor, hold_cursor
from services.loans.app.list_requests import HoldFilter, PageRequest
from services.loans.data.tables import HOLD_DESCRIPTION, holds
from services.loans.domain.hold_record import ACTIVE_HOLD_STATUSES, HOLD, SET_ASIDE, HoldStatus
from services.loans.domain.holds import Hold, HoldNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.driver import INTEGRITY_ERRORS, DriverStatement, violated_constraint
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.paging import Page, page_from_rows
from services.support.runtime.repository import TrackingRepository

_ACTIVE = [s.value for s in ACTIVE_HOLD_STATUSES]
_SET_ASIDE = [s.value for s in SET_ASIDE]
ONE_HOLD_PER_COPY = "holds_one_set_aside_per_copy"
# Read by every issue and every return: built once.
_ACTIVE_FOR = DriverStatement(
    sa.select(holds).where(
        holds.c.patron == sa.bindparam("patron"),
        holds.c.book == sa.bindparam("book"),
        holds.c.status == sa.any_(sa.bindparam("active", _ACTIVE, type_=ARRAY(sa.Text))),
    )
)
_QUEUE = (
    sa.select(holds)
    .where(holds.c.book == sa.bindparam("book"), holds.c.status == HoldStatus.WAITING.value)
    .order_by(holds.c.seq)
)
_behind = sa.alias(holds, "behind")
_QUEUE_AFTER = _QUEUE.where(
    holds.c.seq > sa.select(_behind.c.seq).where(_behind.c.id == sa.bindparam("after")).scalar_subquery()
)
"""The rest of the queue behind a hold (a hold's `seq` never changes, whatever its status becomes)."""
_FIELDS = (
    "patron", "book", "pickup_branch", "pickup_days", "copy", "loan", "ready_at", "expire_at", "cancel_reason",
    "shelf_released", "to_pull", "hold_shelf_branch", "created_at", "updated_at", *HOLD_DESCRIPTION, "copy_version",
    "book_language",
)  # fmt: skip


def _queue_position() -> sa.ColumnElement[int]:
    """1-based place among the book's WAITING holds (0 for any other status)."""
    ahead = sa.alias(holds, "ahead")
    return sa.case(
        (
            holds.c.status == HoldStatus.WAITING.value,
            sa.select(sa.func.count())
            .where(ahead.c.book == holds.c.book, ahead.c.status == HoldStatus.WAITING.value, ahead.c.seq <= holds.c.seq)
            .scalar_subquery(),
        ),
        else_=0,
    ).label("queue_position")


HOLDS_WITH_POSITION = sa.select(holds, _queue_position())
_BY_ID = DriverStatement(HOLDS_WITH_POSITION.where(holds.c.id == sa.bindparam("hold_id")))
_BY_ID_FOR_UPDATE = DriverStatement(
    HOLDS_WITH_POSITION.where(holds.c.id == sa.bindparam("hold_id")).with_for_update(of=holds)
)


def _branch(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """A branch code as staff type it: trimmed, in any letter case (the filter's value is kept so)."""
    return sa.func.lower(sa.func.btrim(column))


def hold_conditions(where: HoldFilter) -> list[sa.ColumnElement[bool]]:
    """The SQL of a list's conditions (see hold_queries for what each field means)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if where.patron:
        conditions.append(holds.c.patron == where.patron)
    if where.status is not None:
        conditions.append(holds.c.status == where.status.value)
    if where.book:
        conditions.append(holds.c.book == where.book)
    if where.where.pickup_branch:
        conditions.append(_branch(holds.c.pickup_branch) == where.where.pickup_branch)
    if where.where.pull_branch:  # from the hold shelf it sits on, else the open shelf of the copy's branch
        pulled_from = sa.case((holds.c.hold_shelf_branch != "", holds.c.hold_shelf_branch), else_=holds.c.copy_branch)
        conditions.append(_to_pull(True))
        conditions.append(_branch(pulled_from) == where.where.pull_branch)
    if where.where.to_pull is not None:
        conditions.append(_to_pull(where.where.to_pull))
    return conditions


def _to_pull(wanted: bool) -> sa.ColumnElement[bool]:
    """As the API shows `to_pull`: only an IN_TRANSIT hold is to pull."""
    pulled = sa.and_(holds.c.status == HoldStatus.IN_TRANSIT.value, holds.c.to_pull)
    return pulled if wanted else sa.not_(pulled)


_SHOWN_DEADLINE = sa.case((holds.c.status == HoldStatus.READY.value, holds.c.expire_at), else_=sa.null())
"""A hold's pickup deadline as the API shows it: a READY hold's only. An ended hold keeps the one it had, which
sorted expired holds first and cancelled ones among the READY (F10 of the integrator's findings)."""


def _deadline(where: HoldFilter) -> sa.ColumnElement[Any]:
    """What a list by deadline sorts on: the stored column when it lists READY holds only (the hold shelf, which
    the partial index on (expire_at, seq) serves), the deadline as shown otherwise."""
    return holds.c.expire_at if where.status == HoldStatus.READY else _SHOWN_DEADLINE


def _after(cursor: HoldCursor, where: HoldFilter) -> sa.ColumnElement[bool]:
    """Strictly after the cursor in the list's order (row comparisons, which an index on the keys seeks to)."""
    deadline, seq = cursor
    if not where.by_deadline:
        return holds.c.seq > seq
    shown = _deadline(where)
    if deadline is None:  # among the holds without a deadline, listed last
        return sa.and_(shown.is_(None), holds.c.seq > seq)
    later = sa.tuple_(shown, holds.c.seq) > sa.tuple_(sa.literal(deadline, holds.c.expire_at.type), seq)
    return sa.or_(later, shown.is_(None))


def _shown(row: Any) -> datetime | None:
    return row.expire_at if row.status == HoldStatus.READY.value else None


def _to_hold(m: Mapping[Any, Any]) -> Hold:
    """A hold from a row of the holds table (SQLAlchemy's row mapping, or the driver's record)."""
    return Hold(
        id=m["id"],
        status=HoldStatus(m["status"]),
        version=m["version"],
        queue_position=m.get("queue_position", 0) or 0,
        **{name: m[name] for name in _FIELDS},
    )


class SqlHoldRepository(TrackingRepository):
    async def add(self, hold: Hold) -> None:
        values = {name: getattr(hold, name) for name in _FIELDS}
        try:
            await self.session.execute(
                holds.insert().values(id=hold.id, status=hold.status.value, version=hold.version, **values)
            )
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "holds_one_active_per_patron_book":
                raise AlreadyExists(f"{hold.patron} already holds {hold.book}", reason="HOLD_EXISTS") from None
            raise
        self._track(hold)

    async def get(self, hold_id: uuid.UUID, *, for_update: bool = False) -> Hold:
        row = await self._first(_BY_ID_FOR_UPDATE if for_update else _BY_ID, {"hold_id": hold_id})
        if row is None:
            raise HoldNotFound(HOLD.format(hold_id))
        return self._track(_to_hold(row))

    async def save(self, hold: Hold) -> None:
        self._track(hold)  # first: a carrying update takes its events along
        values = {name: getattr(hold, name) for name in _FIELDS} | {"status": hold.status.value}
        try:
            await self._update_versioned(holds, row_id=hold.id, version=hold.version, values=values, name=hold.name)
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == ONE_HOLD_PER_COPY:  # a step releasing it from another hold is under way
                raise Conflict(
                    f"{hold.copy} is set aside for another hold here; retry", reason=CONCURRENT_UPDATE
                ) from None
            raise
        hold.version += 1

    async def active_for(self, patron: str, book: str) -> Hold | None:
        row = await self._first(_ACTIVE_FOR, {"patron": patron, "book": book})
        return self._track(_to_hold(row)) if row else None

    async def count_active(self, patron: str) -> int:
        query = sa.select(sa.func.count()).where(holds.c.patron == patron, holds.c.status.in_(_ACTIVE))
        return int(await self.session.scalar(query) or 0)

    async def active_of(self, patron: str) -> list[Hold]:
        query = sa.select(holds).where(holds.c.patron == patron, holds.c.status.in_(_ACTIVE)).order_by(holds.c.seq)
        return [self._track(_to_hold(row._mapping)) for row in (await self.session.execute(query)).all()]

    async def others_waiting(self, book: str, patron: str) -> bool:
        query = sa.select(
            sa.exists().where(
                holds.c.book == book, holds.c.patron != patron, holds.c.status == HoldStatus.WAITING.value
            )
        )
        return bool(await self.session.scalar(query))

    async def needing_attention(self, now: datetime, *, limit: int = 200) -> list[Hold]:
        """READY holds past their pickup time, and ended holds whose copy is still on the shelf."""
        query = (
            sa.select(holds)
            .where(
                sa.or_(
                    sa.and_(holds.c.status == HoldStatus.READY.value, holds.c.expire_at < now),
                    sa.and_(holds.c.status.not_in(_ACTIVE), sa.not_(holds.c.shelf_released)),
                )
            )
            .order_by(holds.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._track(_to_hold(row._mapping)) for row in (await self.session.execute(query)).all()]

    async def waiting(self, book: str, *, limit: int, after: uuid.UUID | None = None) -> list[Hold]:
        query, values = (_QUEUE, {"book": book}) if after is None else (_QUEUE_AFTER, {"book": book, "after": after})
        return [
            self._track(_to_hold(row._mapping))
            for row in (await self.session.execute(query.limit(limit), values)).all()
        ]

    async def books_with_waiting(self, *, after: str = "", limit: int) -> list[str]:
        """Keyset-paginated by name (holds_book_queue walks the books in that order)."""
        query = (
            sa.select(holds.c.book)
            .where(holds.c.status == HoldStatus.WAITING.value, holds.c.book > after)
            .group_by(holds.c.book)
            .order_by(holds.c.book)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def active_pickup_branches(self) -> dict[str, int]:
        query = (
            sa.select(holds.c.pickup_branch, sa.func.count())
            .where(holds.c.status.in_(_ACTIVE))
            .group_by(holds.c.pickup_branch)
        )
        return {branch: count for branch, count in (await self.session.execute(query)).all()}

    async def undescribed(self, *, limit: int) -> list[Hold]:
        untitled = holds.c.book_title == ""
        unlabelled = sa.and_(holds.c.status.in_(_SET_ASIDE), holds.c.copy != "", holds.c.barcode == "")
        query = (
            sa.select(holds)
            .where(holds.c.status.in_(_ACTIVE), sa.or_(untitled, unlabelled))
            .order_by(holds.c.seq)
            .limit(limit)
        )
        return [_to_hold(row._mapping) for row in (await self.session.execute(query)).all()]

    async def set_aside_with(self, copy: str) -> list[Hold]:
        query = sa.select(holds).where(holds.c.copy == copy, holds.c.status.in_(_SET_ASIDE)).order_by(holds.c.seq)
        return [_to_hold(row._mapping) for row in (await self.session.execute(query)).all()]

    async def shelf_records(self, names: Sequence[str]) -> dict[str, tuple[uuid.UUID, str]]:
        ids = [HOLD.parse_id(name) for name in names if HOLD.matches(name)]
        rows = (await self.session.execute(sa.select(holds.c.id, holds.c.copy).where(holds.c.id.in_(ids)))).all()
        return {HOLD.format(row.id): (row.id, row.copy) for row in rows}

    async def set_aside_copies(self) -> dict[str, tuple[str, HoldStatus]]:
        query = sa.select(holds.c.id, holds.c.copy, holds.c.status).where(holds.c.status.in_(_SET_ASIDE))
        rows = (await self.session.execute(query)).all()
        return {row.copy: (HOLD.format(row.id), HoldStatus(row.status)) for row in rows}

    async def sharing_copies(self) -> list[tuple[str, str]]:
        set_aside = holds.c.status.in_(_SET_ASIDE)
        shared = sa.select(holds.c.copy).where(set_aside).group_by(holds.c.copy).having(sa.func.count() > 1)
        query = sa.select(holds.c.id, holds.c.copy).where(set_aside, holds.c.copy.in_(shared)).order_by(holds.c.seq)
        return [(HOLD.format(row.id), row.copy) for row in (await self.session.execute(query)).all()]

    async def last_ended_with(self, copy_name: str) -> Hold | None:
        query = (
            sa.select(holds)
            .where(holds.c.copy == copy_name, holds.c.status.not_in(_ACTIVE))
            .order_by(holds.c.updated_at.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        return _to_hold(row._mapping) if row is not None else None

    async def list_in_queue_order(self, where: HoldFilter, *, page: PageRequest[HoldCursor]) -> Page[Hold]:
        """Oldest first, or soonest deadline first (holds without one last); the cursor is (deadline, seq)."""
        conditions = hold_conditions(where)
        order = [_deadline(where).asc().nulls_last(), holds.c.seq] if where.by_deadline else [holds.c.seq]
        statement = HOLDS_WITH_POSITION.where(*conditions).order_by(*order)
        if page.after is not None:
            statement = statement.where(_after(page.after, where))
        rows = (await self.session.execute(statement.limit(page.size + 1))).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(holds).where(*conditions))
        listed = page_from_rows(
            rows,
            limit=page.size,
            query=page.query,
            cursor_of=lambda row: hold_cursor(_shown(row), row.seq, by_deadline=where.by_deadline),
            total_size=int(total or 0),
        )
        return listed.map(lambda row: _to_hold(row._mapping))
