"""The loans table: the loan repository. Never commits.

`save` is an optimistic update (`WHERE version = :seen`): a concurrent change surfaces as Conflict
(ABORTED, CONCURRENT_UPDATE) instead of being overwritten. Row locks only where an invariant spans rows:
the patron's advisory lock (one patron's loan limit) and `get(for_update=True)` in the issue saga.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from services.loans.app.list_requests import LoanFilter, NewestFirst, PageRequest
from services.loans.app.pages import newest_first_cursor
from services.loans.data.loan_statements import (
    ACTIVE_ON_COPY,
    BY_ID,
    BY_ID_FOR_UPDATE,
    BY_REQUEST,
    CLOSE_UNLESS_FINED,
    FORGET,
    INSERT,
    LOAN_COLUMNS,
    NOT_BEING_RETURNED,
    STANDING_ALL,
    STANDING_OF_TYPE,
    TO_RETURN_BY_BARCODE,
    TO_RETURN_BY_ID,
)
from services.loans.data.rules import terms_from_json, terms_to_json
from services.loans.data.tables import loans
from services.loans.domain.borrowing import Standing
from services.loans.domain.loan_record import LOAN, VISIBLE, LoanStatus
from services.loans.domain.loans import Loan, LoanNotFound
from services.support.runtime.conflicts import REQUEST_IN_PROGRESS
from services.support.runtime.driver import INTEGRITY_ERRORS, violated_constraint
from services.support.runtime.errors import Conflict, FailedPrecondition
from services.support.runtime.paging import Page, page_from_rows
from services.support.runtime.repository import Statement, TrackingRepository


def _to_loan(m: Mapping[Any, Any]) -> Loan:
    """A loan from a row of the loans table (SQLAlchemy's `row._mapping`, or the driver's record)."""
    values = {f.name: m[f.name] for f in fields(Loan) if f.name in LOAN_COLUMNS}
    values["status"] = LoanStatus(m["status"])
    return Loan(**values, terms=terms_from_json(m["terms"]))


def _to_row(loan: Loan) -> dict[str, Any]:
    row = {name: getattr(loan, name) for name in LOAN_COLUMNS}
    row["status"] = loan.status.value
    row["terms"] = terms_to_json(loan.terms)
    return row


def _changed_values(loan: Loan) -> dict[str, Any]:
    """What a versioned update of the loan sets (the version is the update's own)."""
    row = _to_row(loan)
    del row["version"]
    return row


def _conditions(query: LoanFilter, now: datetime) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [loans.c.status.in_([s.value for s in VISIBLE])]
    if query.patron:
        conditions.append(loans.c.patron == query.patron)
    if query.status is not None:
        conditions.append(loans.c.status == query.status.value)
    if query.overdue_only:
        conditions += [loans.c.status == LoanStatus.ACTIVE.value, loans.c.due_at < now]
    if query.book:
        conditions.append(loans.c.book == query.book)
    return conditions


class SqlLoanRepository(TrackingRepository):
    async def add(self, loan: Loan) -> None:
        try:
            await self._execute(INSERT, _to_row(loan))
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "loans_request_id":
                raise Conflict(
                    "an issue with this request_id is in progress; retry it", reason=REQUEST_IN_PROGRESS
                ) from None
            raise
        self._track(loan)

    async def get(self, loan_id: uuid.UUID, *, for_update: bool = False) -> Loan:
        loan = await self._one(BY_ID_FOR_UPDATE if for_update else BY_ID, {"loan_id": loan_id})
        if loan is None:
            raise LoanNotFound(LOAN.format(loan_id))
        return loan

    async def forget(self, loan_id: uuid.UUID) -> None:
        await self._execute(FORGET, {"loan_id": loan_id})

    def announce(self, loan: Loan) -> None:
        """Its events go to the outbox at commit (as any loan's handed out here); no row is written."""
        self._track(loan)

    async def by_request(self, request_id: uuid.UUID) -> Loan | None:
        """The live (not FAILED) loan a request_id created."""
        return await self._one(BY_REQUEST, {"request_id": request_id})

    async def active_on_copy(self, copy: str) -> Loan | None:
        """The ACTIVE loan of a copy, locked until commit (None when the copy is on no active loan)."""
        return await self._one(ACTIVE_ON_COPY, {"copy": copy})

    async def to_return(
        self, *, loan_id: uuid.UUID | None = None, barcode: str = "", now: datetime
    ) -> tuple[Loan, uuid.UUID | None]:
        """The loan a return names and the id of the hold at the head of its book's queue, in one statement."""
        if loan_id is not None:
            found = await self._first(TO_RETURN_BY_ID, {"loan_id": loan_id, "now": now})
        else:
            found = await self._first(TO_RETURN_BY_BARCODE, {"barcode": barcode, "now": now})
        if found is None:
            raise LoanNotFound(LOAN.format(loan_id) if loan_id is not None else f"loans/-?barcode={barcode}")
        return self._track(_to_loan(found)), found["queue_head"]

    async def returns_begun(self, *, before: datetime, limit: int = 100) -> list[Loan]:
        """ACTIVE loans whose return was begun before `before` and not finished, oldest first."""
        statement = (
            sa.select(loans)
            .where(loans.c.status == LoanStatus.ACTIVE.value, loans.c.return_started_at < before)
            .order_by(loans.c.return_started_at)
            .limit(limit)
        )
        return [self._track(_to_loan(row._mapping)) for row in (await self.session.execute(statement)).all()]

    async def _one(self, statement: Statement, values: dict[str, Any]) -> Loan | None:
        found = await self._first(statement, values)
        return self._track(_to_loan(found)) if found is not None else None

    async def save(self, loan: Loan) -> None:
        self._track(loan)  # first: a carrying update takes its events along (a saga's loan comes from outside)
        values = _changed_values(loan)
        try:
            await self._update_versioned(loans, row_id=loan.id, version=loan.version, values=values, name=loan.name)
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "loans_active_copy":
                raise FailedPrecondition(
                    f"{loan.copy} is already on an active loan", reason="COPY_ALREADY_ON_LOAN"
                ) from None
            raise
        loan.version += 1

    async def close_unless_fined(self, loan: Loan) -> bool:
        """Writes back a loan just returned, with its events, unless an overdue fine is recorded for it or
        someone else changed it since it was read; whether it wrote it."""
        self._track(loan)  # first: the write carries its events
        values = _changed_values(loan)
        if not await self._update_versioned_if(
            CLOSE_UNLESS_FINED, row_id=loan.id, version=loan.version, values=values, loan_name=loan.name
        ):
            return False
        loan.version += 1
        return True

    async def has_active(self, patron: str, book: str) -> bool:
        query = sa.select(
            sa.exists().where(loans.c.patron == patron, loans.c.book == book, loans.c.status == LoanStatus.ACTIVE.value)
        )
        return bool(await self.session.scalar(query))

    async def lock_patron(self, patron: str) -> None:
        """Serialises the limit checks of one patron's concurrent issues (held until commit)."""
        await self._advisory_lock(patron)

    async def standing(self, patron: str, *, item_type: str, now: datetime, besides: Sequence[str] = ()) -> Standing:
        """Active loans (of `item_type`, or for "*" of every type but those in `besides`), overdue loans,
        fines still owed, holds with a copy set aside (READY or IN_TRANSIT) and holds not ended."""
        if item_type == "*":
            counts, params = STANDING_ALL, {"patron": patron, "now": now, "besides": list(besides)}
        else:
            counts, params = STANDING_OF_TYPE, {"patron": patron, "now": now, "item_type": item_type}
        row = await self._first(counts, params)
        assert row is not None  # counts: always one row
        return Standing(row["active"], row["overdue"], Decimal(row["owed"] or 0), row["ready"], row["held"])

    async def list_newest_first(
        self, where: LoanFilter, *, now: datetime, page: PageRequest[NewestFirst]
    ) -> Page[Loan]:
        """Keyset-paginated; only loans that exist for clients (ACTIVE or RETURNED)."""
        conditions = _conditions(where, now)
        statement = sa.select(loans).where(*conditions).order_by(loans.c.created_at.desc(), loans.c.id.desc())
        if page.after is not None:
            statement = statement.where(sa.tuple_(loans.c.created_at, loans.c.id) < sa.tuple_(*page.after))
        rows = (await self.session.execute(statement.limit(page.size + 1))).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(loans).where(*conditions))
        return page_from_rows(
            rows,
            limit=page.size,
            query=page.query,
            cursor_of=lambda row: newest_first_cursor(row.created_at, row.id),
            total_size=int(total or 0),
        ).map(lambda row: _to_loan(row._mapping))

    async def unsettled(self, *, pending_before: datetime, limit: int = 100) -> list[Loan]:
        """Sagas to repair: PENDING longer than a saga may take, or FAILED with the copy maybe still out."""
        statement = (
            sa.select(loans)
            .where(
                sa.or_(
                    sa.and_(loans.c.status == LoanStatus.PENDING.value, loans.c.created_at < pending_before),
                    sa.and_(loans.c.status == LoanStatus.FAILED.value, sa.not_(loans.c.compensated)),
                )
            )
            .order_by(loans.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._track(_to_loan(row._mapping)) for row in (await self.session.execute(statement)).all()]

    async def active_due_before(self, moment: datetime, *, limit: int = 500) -> list[Loan]:
        statement = (
            sa.select(loans)
            .where(loans.c.status == LoanStatus.ACTIVE.value, loans.c.due_at < moment, NOT_BEING_RETURNED)
            .order_by(loans.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._track(_to_loan(row._mapping)) for row in (await self.session.execute(statement)).all()]

    async def needing_reminder(self, now: datetime, *, limit: int = 500) -> list[Loan]:
        statement = (
            sa.select(loans)
            .where(loans.c.status == LoanStatus.ACTIVE.value, loans.c.next_reminder_at <= now, NOT_BEING_RETURNED)
            .order_by(loans.c.next_reminder_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._track(_to_loan(row._mapping)) for row in (await self.session.execute(statement)).all()]

    async def statuses(self, names: Sequence[str]) -> dict[str, tuple[LoanStatus, str, datetime]]:
        """name -> (status, copy, created_at) for the loans among `names` that exist (other names are ignored)."""
        ids = [LOAN.parse_id(name) for name in names if LOAN.matches(name)]
        rows = (
            await self.session.execute(
                sa.select(loans.c.id, loans.c.status, loans.c.copy, loans.c.created_at).where(loans.c.id.in_(ids))
            )
        ).all()
        return {LOAN.format(r.id): (LoanStatus(r.status), r.copy, r.created_at) for r in rows}

    async def moved_at(self, names: Sequence[str]) -> dict[str, datetime]:
        """name -> when the loan last moved (made, issued, its end begun, ended), for those among `names`."""
        ids = [LOAN.parse_id(name) for name in names if LOAN.matches(name)]
        if not ids:
            return {}
        # GREATEST skips NULLs: a loan not issued, or whose end has not begun, moved last when it was made.
        moved = sa.func.greatest(loans.c.created_at, loans.c.issued_at, loans.c.return_started_at, loans.c.returned_at)
        statement = sa.select(loans.c.id, moved.label("moved")).where(loans.c.id.in_(ids))
        rows = (await self.session.execute(statement)).all()
        return {LOAN.format(r.id): r.moved for r in rows}

    async def active_copies(self) -> dict[str, str]:
        """copy -> loan name, for every ACTIVE loan (reconciliation compares it with the catalog)."""
        rows = (
            await self.session.execute(
                sa.select(loans.c.id, loans.c.copy).where(loans.c.status == LoanStatus.ACTIVE.value)
            )
        ).all()
        return {r.copy: LOAN.format(r.id) for r in rows}
