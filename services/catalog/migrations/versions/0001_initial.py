"""Books, copies and the messaging tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from services.support.runtime.migrations import create_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "books",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("isbn", sa.Text, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("subtitle", sa.Text, nullable=False, server_default=""),
        sa.Column("authors", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("subjects", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("publisher", sa.Text, nullable=False, server_default=""),
        sa.Column("publication_year", sa.Integer),
        sa.Column("language", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("cover_url", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("books_created_at_id", "books", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_table(
        "copies",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("book_id", UUID(as_uuid=True), sa.ForeignKey("books.id", ondelete="CASCADE"), nullable=False),
        sa.Column("barcode", sa.Text, nullable=False, unique=True),
        sa.Column("branch", sa.Text, nullable=False, server_default=""),
        sa.Column("shelf_location", sa.Text, nullable=False, server_default=""),
        sa.Column("item_type", sa.Text, nullable=False, server_default="book"),
        sa.Column("status", sa.Text, nullable=False, server_default="AVAILABLE"),
        sa.Column("current_loan", sa.Text),
        sa.Column("current_hold", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("copies_book_id", "copies", ["book_id"])


def downgrade() -> None:
    op.drop_table("copies")
    op.drop_table("books")
