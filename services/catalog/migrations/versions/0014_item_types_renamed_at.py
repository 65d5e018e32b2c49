"""An item type keeps when it took its code (RenameItemType), and a copy's answer carries it: the loans service
lends a copy of a renamed type only once its circulation rules have followed the rename, never by the rules of a
view that still knows the old code. Types renamed before this keep NULL (their renames long followed).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("item_types", sa.Column("renamed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("item_types", "renamed_at")
