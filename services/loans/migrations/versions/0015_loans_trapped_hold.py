"""A returned loan keeps where its return put the copy (the hold it was trapped for, the branch it was sent
to), so that a retry of the return (its request_id) is answered as the first was. Loans returned before this
keep neither (their retries are long past: request ids are kept 24 hours).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("trapped_hold", sa.Text, nullable=False, server_default=""))
    op.add_column("loans", sa.Column("transit_branch", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("loans", "transit_branch")
    op.drop_column("loans", "trapped_hold")
