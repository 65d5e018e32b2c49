"""Loans, holds and the fines whose description names a loan's title keep the book's language with the title, so
the lists mark each title with it (a screen reader reads a Russian title in a Russian voice). Those kept before
know none ("").

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("loans", "holds", "fines"):
        op.add_column(table, sa.Column("book_language", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("fines", "holds", "loans"):
        op.drop_column(table, "book_language")
