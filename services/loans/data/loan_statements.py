"""The statements of the loans table's hot paths (issue, return, the patron's standing), built once: building
a statement and its cache key costs more CPU than Postgres spends running these indexed look-ups.

A read-only unit of work reads these through the driver (see DriverStatement): every issue with a request_id
that is not its first attempt looks for the loan it may have made, every return by barcode for the active loan.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from services.loans.data.tables import UNUSED_LOAN_COLUMNS, fines, holds, loans, patrons
from services.loans.domain.fines import FineKind
from services.loans.domain.hold_record import ACTIVE_HOLD_STATUSES, SET_ASIDE, HoldStatus
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.patrons import ACTIVE
from services.support.runtime.driver import DriverStatement
from services.support.runtime.repository import versioned_update

LOAN_COLUMNS = {column.name for column in loans.columns} - {"terms"} - UNUSED_LOAN_COLUMNS

_by_id = sa.select(loans).where(loans.c.id == sa.bindparam("loan_id"))
BY_ID = DriverStatement(_by_id, read=True)
BY_ID_FOR_UPDATE = DriverStatement(_by_id.with_for_update())
BY_REQUEST = DriverStatement(
    sa.select(loans).where(loans.c.request_id == sa.bindparam("request_id"), loans.c.status != LoanStatus.FAILED.value),
    read=True,
)
# A return reads its loan and the head of its book's queue (whom the copy goes on the hold shelf for) at once.
# Skipped, keeping their place: holds of patrons whose account may not borrow at `now` by the projection of
# accounts (PatronRecord.lending_eligibility's rule: not ACTIVE, or the membership expired).
_MAY_NOT_BORROW = sa.exists().where(
    patrons.c.patron == holds.c.patron,
    sa.or_(patrons.c.status != ACTIVE, patrons.c.expire_at <= sa.bindparam("now", type_=sa.DateTime(timezone=True))),
)
_QUEUE_HEAD_ID = (
    sa.select(holds.c.id)
    .where(holds.c.book == loans.c.book, holds.c.status == HoldStatus.WAITING.value, ~_MAY_NOT_BORROW)
    .order_by(holds.c.seq)
    .limit(1)
    .scalar_subquery()
    .label("queue_head")
)
_to_return = sa.select(loans, _QUEUE_HEAD_ID)
TO_RETURN_BY_ID = DriverStatement(_to_return.where(loans.c.id == sa.bindparam("loan_id")), read=True)
TO_RETURN_BY_BARCODE = DriverStatement(
    _to_return.where(
        sa.func.lower(loans.c.barcode) == sa.func.lower(sa.bindparam("barcode", type_=sa.Text)),
        loans.c.status == LoanStatus.ACTIVE.value,
    ),
    read=True,
)
# A loan whose return was begun is not fined or reminded further meanwhile: the copy may already be back.
NOT_BEING_RETURNED = loans.c.return_started_at.is_(None)
_STORED = tuple(sorted(LOAN_COLUMNS | {"terms"}))
INSERT = DriverStatement(
    loans.insert().values({name: sa.bindparam(name, type_=loans.c[name].type) for name in _STORED})
)
# A return with nothing to settle closes its loan in one statement, provided the loan has no overdue fine
# (whose close brings the fine up to date, in a transaction) and is at the version the return read.
CLOSE_UNLESS_FINED = versioned_update(
    loans,
    tuple(name for name in _STORED if name != "version"),
    carrying=True,
    provided=~sa.exists().where(fines.c.loan == sa.bindparam("loan_name"), fines.c.kind == FineKind.OVERDUE.value),
)
FORGET = DriverStatement(
    loans.delete().where(loans.c.id == sa.bindparam("loan_id"), loans.c.status == LoanStatus.PENDING.value)
)
ACTIVE_ON_COPY = DriverStatement(
    sa.select(loans)
    .where(loans.c.copy == sa.bindparam("copy"), loans.c.status == LoanStatus.ACTIVE.value)
    .with_for_update()
)


def _standing_query(*, all_item_types: bool) -> sa.Select[Any]:
    """Active loans (of one item type, or all), overdue loans, fines owed, set-aside and active holds, in one
    statement."""
    patron = sa.bindparam("patron", type_=sa.String)
    active = sa.and_(loans.c.patron == patron, loans.c.status == LoanStatus.ACTIVE.value)
    besides = sa.bindparam("besides", type_=ARRAY(sa.String))
    in_scope = (
        sa.and_(active, loans.c.item_type != sa.all_(besides))
        if all_item_types
        else sa.and_(active, loans.c.item_type == sa.bindparam("item_type"))
    )
    owed = (
        sa.select(sa.func.coalesce(sa.func.sum(fines.c.amount - fines.c.paid - fines.c.waived), 0))
        .where(fines.c.patron == patron, fines.c.status == "OUTSTANDING")
        .scalar_subquery()
    )
    ready = (
        sa.select(sa.func.count())
        .where(holds.c.patron == patron, sa.or_(*(holds.c.status == status.value for status in SET_ASIDE)))
        .scalar_subquery()
    )
    # Every hold not ended, so an issue under the patron's lock looks for the hold it fills only when there is one.
    held = (
        sa.select(sa.func.count())
        .where(holds.c.patron == patron, sa.or_(*(holds.c.status == status.value for status in ACTIVE_HOLD_STATUSES)))
        .scalar_subquery()
    )
    return sa.select(
        sa.func.count().filter(in_scope).label("active"),
        sa.func.count().filter(sa.and_(active, loans.c.due_at < sa.bindparam("now"))).label("overdue"),
        owed.label("owed"),
        ready.label("ready"),
        held.label("held"),
    ).where(loans.c.patron == patron)


STANDING_ALL = DriverStatement(_standing_query(all_item_types=True), read=True)
STANDING_OF_TYPE = DriverStatement(_standing_query(all_item_types=False), read=True)
