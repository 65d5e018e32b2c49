"""Reminders by schedule step: how many steps a loan's patron has heard of, and when to look again.

Active loans are looked at by the first reminder pass after the upgrade, which announces the latest step
that has come (a patron reminded under the old scheme may hear once more, never twice per step after).
overdue_notified_days and due_soon_notified stay, unused, while an older release may run on this database.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"))
    op.add_column("loans", sa.Column("next_reminder_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE loans SET next_reminder_at = now() WHERE status = 'ACTIVE'")
    op.create_index("loans_next_reminder", "loans", ["next_reminder_at"], postgresql_where=sa.text("status = 'ACTIVE'"))


def downgrade() -> None:
    op.drop_index("loans_next_reminder", table_name="loans")
    op.drop_column("loans", "next_reminder_at")
    op.drop_column("loans", "reminders_sent")
