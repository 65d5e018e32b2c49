"""A hold IN_TRANSIT whose copy is to pull from a hold shelf (a READY hold's copy passed on to it when that hold
ended) says which branch's: the pull list lists it there, on the hold shelf, not on the open shelf of the copy's
branch. Holds in transit before this are taken to be on the open shelf, as the pull list showed them.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("hold_shelf_branch", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("holds", "hold_shelf_branch")
