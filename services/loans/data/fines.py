"""Persistence of fines and their audit trail (fine_entries: one row per assessment, accrual, payment, waiver).

A fine read for a change is locked until commit, so a payment and the overdue accrual of a return or the
reconciler take turns on it (each then saves with its version check) instead of one losing the race.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.loans.app.list_requests import FineFilter, NewestFirst, PageRequest
from services.loans.app.pages import newest_first_cursor
from services.loans.data.tables import account_closings, fine_entries, fines
from services.loans.domain.fines import FINE, Fine, FineEntry, FineKind, FineNotFound, FineStatus
from services.loans.domain.money import CENTS
from services.support.runtime.driver import INTEGRITY_ERRORS, DriverStatement, violated_constraint
from services.support.runtime.errors import AlreadyExists
from services.support.runtime.paging import Page, page_from_rows
from services.support.runtime.repository import TrackingRepository

# Read by every return: built once.
_OVERDUE_FINE_OF = DriverStatement(
    sa.select(fines)
    .where(fines.c.loan == sa.bindparam("loan"), fines.c.kind == FineKind.OVERDUE.value)
    .with_for_update()
)
# The reconciler's, for every overdue loan of its pass at once; locked in one order (by id), so that two
# transactions locking several never wait for each other in a circle.
_OVERDUE_FINES_OF = DriverStatement(
    sa.select(fines)
    .where(fines.c.loan == sa.any_(sa.bindparam("loans", type_=ARRAY(sa.Text))), fines.c.kind == FineKind.OVERDUE.value)
    .order_by(fines.c.id)
    .with_for_update()
)
_BY_ID = sa.select(fines).where(fines.c.id == sa.bindparam("fine_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_MUTABLE = ("amount", "paid", "waived", "refund_due", "status", "waive_reason", "updated_at")


def _to_fine(m: Mapping[Any, Any]) -> Fine:
    """A fine from a row of the fines table (SQLAlchemy's row mapping, or the driver's record)."""
    return Fine(
        id=m["id"],
        patron=m["patron"],
        kind=FineKind(m["kind"]),
        amount=m["amount"],
        currency=m["currency"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        loan=m["loan"],
        paid=m["paid"],
        waived=m["waived"],
        refund_due=m["refund_due"],
        status=FineStatus(m["status"]),
        description=m["description"],
        book_language=m["book_language"],
        waive_reason=m["waive_reason"],
        version=m["version"],
    )


def _values(fine: Fine) -> dict[str, Any]:
    return {
        "amount": fine.amount,
        "paid": fine.paid,
        "waived": fine.waived,
        "refund_due": fine.refund_due,
        "status": fine.status.value,
        "waive_reason": fine.waive_reason,
        "updated_at": fine.updated_at,
    }


class SqlFineRepository(TrackingRepository):
    async def add(self, fine: Fine) -> None:
        try:
            await self.session.execute(
                fines.insert().values(
                    id=fine.id,
                    patron=fine.patron,
                    loan=fine.loan,
                    kind=fine.kind.value,
                    currency=fine.currency,
                    description=fine.description,
                    book_language=fine.book_language,
                    created_at=fine.created_at,
                    version=fine.version,
                    **_values(fine),
                )
            )
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "fines_one_overdue_per_loan":
                raise AlreadyExists(
                    f"{fine.loan or 'the loan'} already has its overdue fine", reason="OVERDUE_FINE_EXISTS"
                ) from None
            raise
        await self._append_entries(fine)
        self._track(fine)

    async def get(self, fine_id: uuid.UUID, *, for_update: bool = False) -> Fine:
        row = (await self.session.execute(_BY_ID_FOR_UPDATE if for_update else _BY_ID, {"fine_id": fine_id})).first()
        if row is None:
            raise FineNotFound(FINE.format(fine_id))
        return self._track(_to_fine(row._mapping))

    async def overdue_fine_of(self, loan: str) -> Fine | None:
        row = await self._first(_OVERDUE_FINE_OF, {"loan": loan})
        return self._track(_to_fine(row)) if row else None

    async def overdue_fines_of(self, loans: Sequence[str]) -> dict[str, Fine]:
        if not loans:
            return {}
        rows = await self._fetch(_OVERDUE_FINES_OF, {"loans": list(loans)})
        return {row["loan"]: self._track(_to_fine(row)) for row in rows}

    async def save(self, fine: Fine) -> None:
        self._track(fine)  # first: a carrying update takes its events along
        await self._update_versioned(fines, row_id=fine.id, version=fine.version, values=_values(fine), name=fine.name)
        fine.version += 1
        await self._append_entries(fine)

    async def entries(self, fine_id: uuid.UUID) -> list[FineEntry]:
        """The audit trail, oldest first."""
        rows = (
            await self.session.execute(
                sa.select(fine_entries).where(fine_entries.c.fine_id == fine_id).order_by(fine_entries.c.seq)
            )
        ).all()
        return [FineEntry(r.kind, r.amount, r.actor, r.at, method=r.method, reason=r.reason) for r in rows]

    async def list_newest_first(
        self, where: FineFilter, *, page: PageRequest[NewestFirst]
    ) -> tuple[Page[Fine], Decimal]:
        """Keyset-paginated, and the sum still owed over every matching fine (not just this page)."""
        conditions: list[sa.ColumnElement[bool]] = []
        if where.patron:
            conditions.append(fines.c.patron == where.patron)
        if where.status is not None:
            conditions.append(fines.c.status == where.status.value)
        statement = sa.select(fines).where(*conditions).order_by(fines.c.created_at.desc(), fines.c.id.desc())
        if page.after is not None:
            statement = statement.where(sa.tuple_(fines.c.created_at, fines.c.id) < sa.tuple_(*page.after))
        rows = (await self.session.execute(statement.limit(page.size + 1))).all()
        owed = sa.case(
            (fines.c.status == FineStatus.OUTSTANDING.value, fines.c.amount - fines.c.paid - fines.c.waived), else_=0
        )
        total, outstanding = (
            await self.session.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(owed), 0)).select_from(fines).where(*conditions)
            )
        ).one()
        listed = page_from_rows(
            rows,
            limit=page.size,
            query=page.query,
            cursor_of=lambda row: newest_first_cursor(row.created_at, row.id),
            total_size=int(total),
        )
        return listed.map(lambda row: _to_fine(row._mapping)), Decimal(outstanding).quantize(CENTS)

    async def _append_entries(self, fine: Fine) -> None:
        if fine.new_entries:
            await self.session.execute(
                fine_entries.insert(),
                [
                    {
                        "fine_id": fine.id,
                        "kind": e.kind,
                        "amount": e.amount,
                        "actor": e.actor,
                        "method": e.method,
                        "reason": e.reason,
                        "at": e.at,
                    }
                    for e in fine.new_entries
                ],
            )
            fine.new_entries.clear()

    async def hold_charges(self, patron: str, *, until: datetime) -> None:
        insert = pg_insert(account_closings).values(patron=patron, until=until)
        latest = sa.func.greatest(account_closings.c.until, insert.excluded.until)
        await self.session.execute(insert.on_conflict_do_update(index_elements=["patron"], set_={"until": latest}))

    async def charges_held_until(self, patron: str) -> datetime | None:
        query = sa.select(account_closings.c.until).where(account_closings.c.patron == patron)
        return await self.session.scalar(query)
