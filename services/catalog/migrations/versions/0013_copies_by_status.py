"""Copies listed by status (ListCopies `status = X`, the loans reconciler's walk over every copy on loan, on the
hold shelf or in transit, each minute) seek to the status and read its copies in barcode order: without it a page
walked the barcode index over every copy of the other statuses (10,000 entries for 100 on loan), or sorted the
whole table. Created as the other indexes are (the runtime's lock_timeout, tried again when the table is busy).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("copies_status_barcode", "copies", ["status", "barcode"])


def downgrade() -> None:
    op.drop_index("copies_status_barcode", table_name="copies")
