"""Loans declared lost (DeclareLoanLost): the declaration's note (the fee and reason, kept with
return_started_at before the catalog is asked to put the copy LOST) and the LOST_ITEM fine it assessed, which
is waived if the copy is found before anything of it was paid. The status LOST needs no schema change (status
is text).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("lost_fee", sa.Numeric(12, 2)))
    op.add_column("loans", sa.Column("lost_reason", sa.Text, nullable=False, server_default=""))
    op.add_column("loans", sa.Column("lost_fine", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("loans", "lost_fine")
    op.drop_column("loans", "lost_reason")
    op.drop_column("loans", "lost_fee")
