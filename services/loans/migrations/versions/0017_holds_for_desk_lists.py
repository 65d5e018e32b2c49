"""What the hold shelf and the pull list show of each hold, kept on it so one ListHolds call answers a page of
rows (the pages asked the catalog and the users service for every row, and the edge's rate limit refused
many): the book's title (at placing), the copy's barcode, branch, call number and shelf (at set-aside), and the
patron's name and card number in the projection of accounts (from the users service's events). Holds and
accounts kept before this have them empty until described: copies by the scheduler's next pass, accounts at
their next change. The hold shelf is read soonest deadline first: an index for that order.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_HOLD_COLUMNS = ("book_title", "barcode", "copy_branch", "call_number", "shelf_location")
_PATRON_COLUMNS = ("display_name", "card_number")


def upgrade() -> None:
    for name in _HOLD_COLUMNS:
        op.add_column("holds", sa.Column(name, sa.Text, nullable=False, server_default=""))
    for name in _PATRON_COLUMNS:
        op.add_column("patrons", sa.Column(name, sa.Text, nullable=False, server_default=""))
    op.create_index(
        "holds_ready_by_deadline", "holds", ["expire_at", "seq"], postgresql_where=sa.text("status = 'READY'")
    )


def downgrade() -> None:
    op.drop_index("holds_ready_by_deadline", table_name="holds")
    for name in _PATRON_COLUMNS:
        op.drop_column("patrons", name)
    for name in _HOLD_COLUMNS:
        op.drop_column("holds", name)
