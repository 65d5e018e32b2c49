"""The return saga's record: a return is noted on the loan before the catalog checks the copy in, so one
interrupted after the catalog's step (Postgres or the process gone before the loan was closed) is completed
by the next issue of that copy or by the reconciler, instead of leaving the loan ACTIVE on a copy that is
back on the shelf.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("return_started_at", sa.DateTime(timezone=True)))
    op.create_index(
        "loans_return_started",
        "loans",
        ["return_started_at"],
        postgresql_where=sa.text("status = 'ACTIVE' AND return_started_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("loans_return_started", table_name="loans")
    op.drop_column("loans", "return_started_at")
