"""What notifications need of an account: per-kind channel choices, the language and the time zone.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("notification_kinds", JSONB, nullable=False, server_default="{}"))
    op.add_column("users", sa.Column("locale", sa.Text, nullable=False, server_default=""))
    op.add_column("users", sa.Column("time_zone", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for column in ("time_zone", "locale", "notification_kinds"):
        op.drop_column("users", column)
