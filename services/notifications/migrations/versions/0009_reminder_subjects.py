"""What a reminder is about and the moment it announces: one still waiting when its loan is returned (a hold
collected), or past that moment, is not sent.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("about", sa.Text, nullable=False, server_default=""))
    op.add_column("notifications", sa.Column("stale_at", sa.DateTime(timezone=True)))
    op.create_index(
        "notifications_queued_about",
        "notifications",
        ["about"],
        postgresql_where=sa.text("status = 'queued' AND about <> ''"),
    )


def downgrade() -> None:
    op.drop_index("notifications_queued_about", table_name="notifications")
    op.drop_column("notifications", "stale_at")
    op.drop_column("notifications", "about")
