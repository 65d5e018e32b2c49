"""Authors readers follow: a new book by one of them is announced to its followers.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followed_authors",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "key", name="followed_authors_user_key"),
    )
    op.create_index("followed_authors_key", "followed_authors", ["key"])


def downgrade() -> None:
    op.drop_index("followed_authors_key", table_name="followed_authors")
    op.drop_table("followed_authors")
