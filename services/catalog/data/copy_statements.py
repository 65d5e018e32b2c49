"""The statements of a copy's circulation path (look-up, check-out, check-in, reserve, release, save), built once:
building a statement and its cache key costs more CPU than Postgres spends on these indexed look-ups. They run on
the driver in the read-only and circulation units of work (see DriverStatement); the repository (copies.py)
passes only their values."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from services.catalog.data.item_types import RENAMED_AT, lendable
from services.catalog.data.tables import books, copies
from services.catalog.domain.copy_values import CopyStatus
from services.support.runtime.driver import DriverStatement

STORED: tuple[str, ...] = ("barcode", "branch", "shelf_location", "item_type", "call_number", "status")
STORED += ("current_loan", "current_hold", "sent_for_hold", "sent_home_from", "updated_at")
"""The stored columns a change may touch (the version is the saving statement's business)."""

# The copies a check-out (or a barcode look-up) may answer come with their book's title, joined in the same
# statement (the loan records it, so loans needs no GetBook); only the copy's row is locked.
# Each copy read comes with whether its item type is not for loan (a check-out refuses it; its availability
# does not count it), and when its item type took its code (loans lends it once its rules followed that).
NOT_FOR_LOAN = (~lendable(copies.c.item_type)).label("not_for_loan")
WITH_TITLE = sa.select(
    copies, books.c.title.label("book_title"), books.c.language.label("book_language"), NOT_FOR_LOAN, RENAMED_AT
).join(books, books.c.id == copies.c.book_id)
BY_ID = DriverStatement(
    sa.select(copies, NOT_FOR_LOAN).where(
        copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id")
    ),
    read=True,
)
BY_ID_FOR_UPDATE = DriverStatement(
    WITH_TITLE.where(
        copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id")
    ).with_for_update(of=copies)
)
# A barcode matches whatever its letter case, through the unique index on lower(barcode).
_BARCODE_MATCHES = sa.func.lower(copies.c.barcode) == sa.func.lower(sa.bindparam("barcode", type_=sa.Text))
BY_BARCODE = DriverStatement(WITH_TITLE.where(_BARCODE_MATCHES), read=True)
ON_LOAN = DriverStatement(WITH_TITLE.where(copies.c.current_loan == sa.bindparam("loan")).with_for_update(of=copies))
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
TO_CHECK_OUT = DriverStatement(
    WITH_TITLE.add_columns(_AVAILABLE_OTHERS).where(
        sa.or_(copies.c.current_loan == sa.bindparam("loan"), _BARCODE_MATCHES)
    ),
    read=True,
)
_HELD_FOR_HOLD = (
    sa.select(_others.c.id).where(_others.c.current_hold == sa.bindparam("hold")).scalar_subquery().label("held")
)
TO_CHECK_IN = DriverStatement(
    WITH_TITLE.add_columns(_AVAILABLE_OTHERS, _HELD_FOR_HOLD).where(
        copies.c.id == sa.bindparam("copy_id"), copies.c.book_id == sa.bindparam("book_id")
    ),
    read=True,
)
ON_HOLD = DriverStatement(WITH_TITLE.where(copies.c.current_hold == sa.bindparam("hold")).with_for_update(of=copies))


def branch_code(code: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """A branch code whatever its case and the spaces around it (runtime/branches.py same_branch)."""
    return sa.func.upper(sa.func.btrim(code), type_=sa.Text)


# Copies another transaction is taking are skipped, not waited for; the branch asked for first. Only copies of
# the item types `only` (an empty array: any) and of none of `excluded`; only copies at one of the branches `at`
# (compared as branch_code; an empty array: any) or at none, so a copy at a branch the library does not list is
# not set aside for a hold (it would be on the pull list of a branch no desk works at).
_CODES = ARRAY(sa.Text)
_only, _excluded = sa.bindparam("only", type_=_CODES), sa.bindparam("excluded", type_=_CODES)
_at = sa.bindparam("at", type_=_CODES)
_listed = sa.func.unnest(_at).column_valued("listed_code")
_AT_A_LISTED_BRANCH = sa.or_(
    sa.func.cardinality(_at) == 0,
    branch_code(copies.c.branch) == "",  # a copy that names no branch is not refused by a list either
    sa.exists().where(branch_code(_listed) == branch_code(copies.c.branch)),
)
FIRST_AVAILABLE = DriverStatement(
    WITH_TITLE.where(
        copies.c.book_id == sa.bindparam("book_id"),
        copies.c.status == CopyStatus.AVAILABLE.value,
        sa.or_(sa.func.cardinality(_only) == 0, copies.c.item_type == sa.any_(_only)),
        _AT_A_LISTED_BRANCH,
        copies.c.item_type != sa.all_(_excluded),
        lendable(copies.c.item_type),  # a reference copy is never lent by book nor set aside for a hold
    )
    .order_by(
        (branch_code(copies.c.branch) == branch_code(sa.bindparam("branch", type_=sa.Text))).desc(), copies.c.barcode
    )
    .limit(1)
    .with_for_update(of=copies, skip_locked=True)
)
BOOK_EXISTS = DriverStatement(sa.select(sa.exists().where(books.c.id == sa.bindparam("book_id")).label("exists")))
_CHANGED = (
    copies.update()
    .where(copies.c.id == sa.bindparam("row_id"), copies.c.version == sa.bindparam("seen_version"))
    .values({name: sa.bindparam(name, type_=copies.c[name].type) for name in (*STORED, "version")})
    .returning(copies.c.status, copies.c.item_type)
    .cte("changed")
)
# A change and its book's availability after it, in one statement (one round trip, where an UPDATE and a
# count were two). The statement's own reads see the table as it was before its UPDATE, so the changed
# copy counts by the status the UPDATE returned, and the book's other copies from the table (with what
# this transaction changed earlier). `changed` is 0 when someone else changed the copy first.
SAVE = DriverStatement(
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
