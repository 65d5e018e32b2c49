"""A password-reset link goes by email only: the SMS templates of password_reset, seeded by earlier releases
with the link in them, are removed (no SMS of that kind is made any more).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM templates WHERE kind = 'password_reset' AND channel = 'sms'")


def downgrade() -> None:
    """Nothing to restore: an older release seeds the templates it misses when it starts."""
