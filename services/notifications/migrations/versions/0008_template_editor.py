"""Who made each template version ("users/{user}"; "" for a built-in one), for the audit of edits.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("templates", sa.Column("updated_by", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("templates", "updated_by")
