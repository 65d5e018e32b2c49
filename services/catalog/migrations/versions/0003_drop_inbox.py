"""Drop the unused inbox table of the first release.

Revision ID: 0003
Revises: 0002
"""

from services.support.runtime.migrations import drop_inbox_v2

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_inbox_v2()


def downgrade() -> None:
    raise NotImplementedError("not reversible: the table held nothing")
