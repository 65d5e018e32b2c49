"""A copy released from the hold shelf of another branch than its own, with nobody to take it, is sent home
(IN_TRANSIT with no hold) and says from which branch's hold shelf: that branch's staff list the copies to send
home by it. It was made AVAILABLE at its own branch while it sat on the other branch's hold shelf.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("copies", sa.Column("sent_home_from", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("copies", "sent_home_from")
