"""The request ledger: claims with leases, fingerprints and kept answers in idempotent_requests (issue 9).

Revision ID: 0004
Revises: 0003
"""

from services.support.runtime.migrations import request_ledger_v3

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    request_ledger_v3()


def downgrade() -> None:
    raise NotImplementedError("not reversible: kept answers would be lost")
