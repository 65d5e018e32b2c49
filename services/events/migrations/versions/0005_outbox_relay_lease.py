"""The outbox relay's lease on the rows it publishes (issue 13: a round trip fewer per batch).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from services.support.runtime.migrations import outbox_relay_lease_v4

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_relay_lease_v4()


def downgrade() -> None:
    op.drop_column("outbox", "relay_lease_until")
