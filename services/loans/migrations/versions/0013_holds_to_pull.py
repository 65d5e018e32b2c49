"""Holds IN_TRANSIT say whether their copy is still on the open shelf to pull (the pull list of the copy's
branch) or already on its way to the pickup branch (that branch's copies coming in). Holds in transit before
this are taken to be pulls, as the pull list showed them.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("to_pull", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute("UPDATE holds SET to_pull = true WHERE status = 'IN_TRANSIT'")


def downgrade() -> None:
    op.drop_column("holds", "to_pull")
