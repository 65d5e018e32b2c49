"""A waiver forgives what a fine owed when it was given: the amount forgiven is kept (fines.waived), so an
overdue fine waived while its loan is out can grow and owe the later days. A returned loan keeps the overdue
days its return counted and the overdue fine it assessed.

Fines waived before the upgrade forgave all they owed then: waived = amount - paid. Their loans, if still
out, owe from the next accrual the days since (the waiver did not forgive those). Returned loans get their
overdue fine's name; their overdue days stay NULL (counted from the return time when read).
An older release may run on this database: the new columns have defaults it need not know.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fines", sa.Column("waived", sa.Numeric(12, 2), nullable=False, server_default="0"))
    op.execute("UPDATE fines SET waived = amount - paid WHERE status = 'WAIVED'")
    op.add_column("loans", sa.Column("returned_overdue_days", sa.Integer))
    op.add_column("loans", sa.Column("fine", sa.Text, nullable=False, server_default=""))
    op.execute(
        "UPDATE loans SET fine = 'fines/' || fines.id FROM fines"
        " WHERE fines.kind = 'OVERDUE' AND fines.loan = 'loans/' || loans.id AND loans.status = 'RETURNED'"
    )


def downgrade() -> None:
    op.drop_column("loans", "fine")
    op.drop_column("loans", "returned_overdue_days")
    # What a waived fine owes again after the upgrade is lost with the column: it reads as fully waived.
    op.execute("UPDATE fines SET status = 'WAIVED' WHERE status = 'OUTSTANDING' AND waived > 0")
    op.drop_column("fines", "waived")
