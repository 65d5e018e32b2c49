"""What loans knows of each account: a projection kept from the users service's events, so that an issue
need not ask the users service while the projection is provably current.

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
    op.create_table(
        "patrons",
        sa.Column("patron", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("patron_category", sa.Text, nullable=False),
        sa.Column("home_branch", sa.Text, nullable=False),
        sa.Column("expire_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "patron_feed",
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("created", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("patron_feed")
    op.drop_table("patrons")
