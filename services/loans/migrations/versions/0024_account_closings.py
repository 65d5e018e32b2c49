"""Charges held while an account is being closed (finding NF3): the users service counted the patron's fines
and then committed the close, while AssessFine checked the account and then committed its charge; each passed
the other's check in the window, leaving a closed account owing. The close's count now holds charges for the
patron for a few seconds (this table), under the patron's lock that a charge takes too.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_closings",
        sa.Column("patron", sa.Text, primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_closings")
