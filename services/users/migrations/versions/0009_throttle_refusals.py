"""Sign-in throttles count the attempts they refuse (audit A13): the first refusal of a wait is recorded, the
rest only counted.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sign_in_throttles", sa.Column("refused", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("sign_in_throttles", "refused")
