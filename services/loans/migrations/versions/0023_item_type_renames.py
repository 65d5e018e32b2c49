"""The item type renames the circulation rules have followed (finding NF1): an issue right after a rename used
to match the copy's new code against rules still keyed by the old one, and lent by the "*" default. The catalog
now says when a copy's type took its code; a loan is made only by rules that followed that rename. Renames before
this were followed without a record: the "*" row, written now, covers them.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_type_renames",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("renamed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("INSERT INTO item_type_renames (code, renamed_at) VALUES ('*', now())")


def downgrade() -> None:
    op.drop_table("item_type_renames")
