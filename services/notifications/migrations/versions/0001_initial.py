"""The messaging tables (outbox, inbox, idempotent requests); the service's own tables come later.

Revision ID: 0001
Revises:
"""

from services.support.runtime.migrations import create_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()


def downgrade() -> None:
    raise NotImplementedError("the first migration is not reversible")
