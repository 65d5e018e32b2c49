"""What was paid of a fine and is owed back to the patron, the charge withdrawn: a lost copy found after its
LOST_ITEM fine was paid, in part or in full (finding M1). Fines before this owe nothing back.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fines", sa.Column("refund_due", sa.Numeric(12, 2), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("fines", "refund_due")
