"""Who sent a notification and who last retried it (staff; "" for the system), for the audit trail.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("sent_by", "retried_by"):
        op.add_column("notifications", sa.Column(column, sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for column in ("retried_by", "sent_by"):
        op.drop_column("notifications", column)
