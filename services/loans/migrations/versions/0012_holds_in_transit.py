"""Holds IN_TRANSIT (a copy set aside for them, on its way to the hold shelf of the pickup branch) are active:
the partial indexes on active holds, the one active hold per patron and book among them, cover the status too.
The status itself needs no schema change (status is text).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status IN ('WAITING', 'IN_TRANSIT', 'READY')")
_ACTIVE_BEFORE = sa.text("status IN ('WAITING', 'READY')")


def _index(where: sa.TextClause) -> None:
    op.drop_index("holds_one_active_per_patron_book", table_name="holds")
    op.drop_index("holds_book_queue", table_name="holds")
    op.create_index(
        "holds_one_active_per_patron_book", "holds", ["patron", "book"], unique=True, postgresql_where=where
    )
    op.create_index("holds_book_queue", "holds", ["book", "seq"], postgresql_where=where)


def upgrade() -> None:
    _index(_ACTIVE)


def downgrade() -> None:
    # Back to the statuses the previous code knows: a hold in transit is WAITING again for it (its copy, set
    # aside in the catalog, is left for the reconciler of that code to report).
    op.execute("UPDATE holds SET status = 'WAITING' WHERE status = 'IN_TRANSIT'")
    _index(_ACTIVE_BEFORE)
