"""The request_id of a loan's begun return, kept on the loan: a return cut by a crash after the catalog's step is
closed by the reconciler, and the desk's retry with the same request_id is answered with the returned loan (where
the copy goes) rather than refused LOAN_ALREADY_RETURNED. Loans kept before this have it empty.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("return_request", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("loans", "return_request")
