"""A return by barcode finds the active loan whatever the letter case scanned (the catalog's barcodes match
in any case from its migration 0007): the index of active loans by barcode is on lower(barcode).

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
    op.create_index(
        "loans_active_barcode_any_case",
        "loans",
        [sa.text("lower(barcode)")],
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.drop_index("loans_active_barcode", table_name="loans")


def downgrade() -> None:
    op.create_index("loans_active_barcode", "loans", ["barcode"], postgresql_where=sa.text("status = 'ACTIVE'"))
    op.drop_index("loans_active_barcode_any_case", table_name="loans")
