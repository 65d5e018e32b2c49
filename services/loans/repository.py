"""Loans persistence: repositories over the tables in tables.py, and the unit of work. Never commits.

Every `save` is an optimistic update (`WHERE version = :seen`): a concurrent change surfaces as Conflict
(ABORTED) instead of being overwritten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loans.borrowing import Standing
from services.loans.domain import Loan, LoanNotFound, LoanStatus, loan_name
from services.loans.fine_store import SqlFineRepository
from services.loans.hold_store import SqlHoldRepository
from services.loans.persistence import Page, update_versioned
from services.loans.rule_store import SqlRuleRepository, terms_from_json, terms_to_json
from services.loans.tables import fines, loans
from services.support.runtime.db import SqlAlchemyUnitOfWork, TrackingRepository, violated_constraint
from services.support.runtime.errors import Conflict, FailedPrecondition
from services.support.runtime.idempotency import RequestLog

VISIBLE = (LoanStatus.ACTIVE, LoanStatus.RETURNED)
_LOAN_COLUMNS = {column.name for column in loans.columns} - {"terms"}

# The statements of the issue and return paths, built once: building a statement and its cache key costs
# more CPU than Postgres spends running these indexed look-ups.
_BY_ID = sa.select(loans).where(loans.c.id == sa.bindparam("loan_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_REQUEST = sa.select(loans).where(
    loans.c.request_id == sa.bindparam("request_id"), loans.c.status != LoanStatus.FAILED.value
)
_ACTIVE_BY_BARCODE = sa.select(loans).where(
    loans.c.barcode == sa.bindparam("barcode"), loans.c.status == LoanStatus.ACTIVE.value
)
_LOCK_PATRON = sa.select(
    sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("patron", type_=sa.String), 0))
)


def _standing_query(*, all_item_types: bool) -> sa.Select[Any]:
    """Active loans (of one item type, or all), overdue loans and fines owed, in one statement."""
    patron = sa.bindparam("patron", type_=sa.String)
    active = sa.and_(loans.c.patron == patron, loans.c.status == LoanStatus.ACTIVE.value)
    in_scope = active if all_item_types else sa.and_(active, loans.c.item_type == sa.bindparam("item_type"))
    owed = (
        sa.select(sa.func.coalesce(sa.func.sum(fines.c.amount - fines.c.paid), 0))
        .where(fines.c.patron == patron, fines.c.status == "OUTSTANDING")
        .scalar_subquery()
    )
    return sa.select(
        sa.func.count().filter(in_scope),
        sa.func.count().filter(sa.and_(active, loans.c.due_at < sa.bindparam("now"))),
        owed,
    ).where(loans.c.patron == patron)


_STANDING_ALL = _standing_query(all_item_types=True)
_STANDING_OF_TYPE = _standing_query(all_item_types=False)


@dataclass(frozen=True, slots=True)
class LoanQuery:
    patron: str = ""
    status: LoanStatus | None = None
    overdue_only: bool = False
    book: str = ""


def _to_loan(row: sa.Row[Any]) -> Loan:
    m = row._mapping
    values = {f.name: m[f.name] for f in fields(Loan) if f.name in _LOAN_COLUMNS}
    values["status"] = LoanStatus(m["status"])
    return Loan(**values, terms=terms_from_json(m["terms"]))


def _to_row(loan: Loan) -> dict[str, Any]:
    row = {name: getattr(loan, name) for name in _LOAN_COLUMNS}
    row["status"] = loan.status.value
    row["terms"] = terms_to_json(loan.terms)
    return row


def _page_query(query: LoanQuery, now: datetime) -> list[sa.ColumnElement[bool]]:
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
            await self.session.execute(loans.insert().values(**_to_row(loan)))
        except IntegrityError as error:
            if violated_constraint(error) == "loans_request_id":
                raise Conflict(
                    "an issue with this request_id is in progress; retry it", reason="REQUEST_IN_PROGRESS"
                ) from None
            raise
        self._track(loan)

    async def get(self, loan_id: uuid.UUID, *, for_update: bool = False) -> Loan:
        query = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        row = (await self.session.execute(query, {"loan_id": loan_id})).first()
        if row is None:
            raise LoanNotFound(loan_name(loan_id))
        return self._track(_to_loan(row))

    async def by_request(self, request_id: uuid.UUID) -> Loan | None:
        """The live (not FAILED) loan a request_id created."""
        row = (await self.session.execute(_BY_REQUEST, {"request_id": request_id})).first()
        return self._track(_to_loan(row)) if row else None

    async def active_by_barcode(self, barcode: str) -> Loan:
        row = (await self.session.execute(_ACTIVE_BY_BARCODE, {"barcode": barcode})).first()
        if row is None:
            raise LoanNotFound(f"loans/-?barcode={barcode}")
        return self._track(_to_loan(row))

    async def save(self, loan: Loan) -> None:
        values = _to_row(loan)
        del values["version"]
        try:
            await update_versioned(
                self.session, loans, row_id=loan.id, version=loan.version, values=values, name=loan.name
            )
        except IntegrityError as error:
            if violated_constraint(error) == "loans_active_copy":
                raise FailedPrecondition(
                    f"{loan.copy} is already on an active loan", reason="COPY_ALREADY_ON_LOAN"
                ) from None
            raise
        loan.version += 1
        self._track(loan)

    async def has_active(self, patron: str, book: str) -> bool:
        query = sa.select(
            sa.exists().where(loans.c.patron == patron, loans.c.book == book, loans.c.status == LoanStatus.ACTIVE.value)
        )
        return bool(await self.session.scalar(query))

    async def lock_patron(self, patron: str) -> None:
        """Serialises the limit checks of one patron's concurrent issues (held until commit)."""
        await self.session.execute(_LOCK_PATRON, {"patron": patron})

    async def standing(self, patron: str, *, item_type: str, now: datetime) -> Standing:
        """Active loans (of `item_type`, or all for "*"), overdue loans and fines still owed."""
        if item_type == "*":
            counts, params = _STANDING_ALL, {"patron": patron, "now": now}
        else:
            counts, params = _STANDING_OF_TYPE, {"patron": patron, "now": now, "item_type": item_type}
        active_count, overdue, owed = (await self.session.execute(counts, params)).one()
        return Standing(active_loans=active_count, overdue_loans=overdue, outstanding_fines=Decimal(owed or 0))

    async def page(
        self, query: LoanQuery, *, now: datetime, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Page[Loan]:
        """Newest first, keyset-paginated; only loans that exist for clients (ACTIVE or RETURNED)."""
        conditions = _page_query(query, now)
        statement = sa.select(loans).where(*conditions).order_by(loans.c.created_at.desc(), loans.c.id.desc())
        if after is not None:
            statement = statement.where(sa.tuple_(loans.c.created_at, loans.c.id) < sa.tuple_(*after))
        rows = (await self.session.execute(statement.limit(limit + 1))).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(loans).where(*conditions))
        return Page([_to_loan(r) for r in rows[:limit]], int(total or 0), len(rows) > limit)

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
        return [self._track(_to_loan(row)) for row in (await self.session.execute(statement)).all()]

    async def active_due_before(self, moment: datetime, *, limit: int = 500) -> list[Loan]:
        statement = (
            sa.select(loans)
            .where(loans.c.status == LoanStatus.ACTIVE.value, loans.c.due_at < moment)
            .order_by(loans.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._track(_to_loan(row)) for row in (await self.session.execute(statement)).all()]

    async def statuses(self, names: list[str]) -> dict[str, tuple[LoanStatus, str, datetime]]:
        """name -> (status, copy, created_at) for the loans among `names` that exist."""
        ids = [uuid.UUID(n.removeprefix("loans/")) for n in names if n.startswith("loans/")]
        rows = (
            await self.session.execute(
                sa.select(loans.c.id, loans.c.status, loans.c.copy, loans.c.created_at).where(loans.c.id.in_(ids))
            )
        ).all()
        return {loan_name(r.id): (LoanStatus(r.status), r.copy, r.created_at) for r in rows}

    async def active_copies(self) -> dict[str, str]:
        """copy -> loan name, for every ACTIVE loan (reconciliation compares it with the catalog)."""
        rows = (
            await self.session.execute(
                sa.select(loans.c.id, loans.c.copy).where(loans.c.status == LoanStatus.ACTIVE.value)
            )
        ).all()
        return {r.copy: loan_name(r.id) for r in rows}


class SqlLoansUnitOfWork(SqlAlchemyUnitOfWork):
    loans: SqlLoanRepository
    rules: SqlRuleRepository
    fines: SqlFineRepository
    holds: SqlHoldRepository
    requests: RequestLog

    def _open(self, session: AsyncSession) -> None:
        self.loans = SqlLoanRepository(session)
        self.rules = SqlRuleRepository(session)
        self.fines = SqlFineRepository(session)
        self.holds = SqlHoldRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.loans, self.rules, self.fines, self.holds)
