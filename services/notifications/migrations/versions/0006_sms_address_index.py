"""The SMS limit counts per phone number too: an index on SMS addresses and when they were queued.

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
    op.create_index(
        "notifications_sms_address_created",
        "notifications",
        ["address", "created_at"],
        postgresql_where=sa.text("channel = 'sms'"),
    )


def downgrade() -> None:
    op.drop_index("notifications_sms_address_created", table_name="notifications")
