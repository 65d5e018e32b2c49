"""One copy is set aside for one active hold at most: a unique index on the copy of IN_TRANSIT and READY holds
(finding C4: a pass-over cut by a crash left two holds IN_TRANSIT with one copy, and nothing in loans refused
it; the catalog's `copies_current_hold` covers the other direction only).

Two such holds kept before this are repaired first: the one changed last keeps the copy (the step that set it
aside for it came after the other's, as the reconciler's recording of the catalog's hold does), the others are
WAITING again at their place in the queue (their creation), with no copy, as a hold passed over is. The
reconciler then compares with the catalog: should the catalog name another of them, that one is given the copy
and the one kept here waits (set_aside_drift.py).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_SET_ASIDE = "status IN ('IN_TRANSIT', 'READY') AND copy <> ''"
_REQUEUE_ALL_BUT_THE_LAST = f"""
UPDATE holds SET
    status = 'WAITING', copy = '', barcode = '', copy_branch = '', call_number = '', shelf_location = '',
    to_pull = false, shelf_released = true, hold_shelf_branch = '', ready_at = NULL, expire_at = NULL,
    updated_at = now(), version = version + 1
WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY copy ORDER BY updated_at DESC, seq DESC) AS newest
        FROM holds WHERE {_SET_ASIDE}
    ) ranked WHERE newest > 1
)
"""


def upgrade() -> None:
    op.execute(sa.text(_REQUEUE_ALL_BUT_THE_LAST))
    op.create_index(
        "holds_one_set_aside_per_copy", "holds", ["copy"], unique=True, postgresql_where=sa.text(_SET_ASIDE)
    )


def downgrade() -> None:
    op.drop_index("holds_one_set_aside_per_copy", table_name="holds")
