"""A copy IN_TRANSIT for a hold says whether a desk checked it in and sent it to the pickup branch (a return at
another branch) or it was set aside on the open shelf to pull: the loans reconciler, finishing a return whose
last step did not run, records the hold as on its way rather than to pull. Copies in transit before this are
taken to be on the open shelf (as the pull list showed them).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("copies", sa.Column("sent_for_hold", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("copies", "sent_for_hold")
