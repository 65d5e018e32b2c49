"""The catalog's version of a held copy's description, kept with it: loans follows the catalog's copy changes
(a cataloguer moving a set-aside copy to another shelf or call number) onto the pull list and the hold shelf,
and an older change heard late must not undo a newer one. Holds described before this have 0 (unknown): the
first change heard sets it. An index finds the holds a copy is set aside for.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("copy_version", sa.BigInteger, nullable=False, server_default="0"))
    op.create_index(
        "holds_set_aside_copy", "holds", ["copy"], postgresql_where=sa.text("status IN ('IN_TRANSIT', 'READY')")
    )


def downgrade() -> None:
    op.drop_index("holds_set_aside_copy", table_name="holds")
    op.drop_column("holds", "copy_version")
