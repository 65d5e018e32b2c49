# ruff: noqa: RUF001, RUF002, RUF003  (Cyrillic letters on purpose: "ё" is folded to "е")
"""A follow matches an author by the words of the name (finding FO1): "Булгаков" or "Михаил Булгаков" match
"Булгаков, Михаил Афанасьевич" and "Булгаков М. А.", not only the exact same set of words. Each follow keeps its
whole words (no initials) in an array with a GIN index, which a new book's authors look follows up by; the
existing follows get theirs here. The key index is no longer read (the unique constraint serves by_key).

Revision ID: 0013
Revises: 0012
"""

import unicodedata

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _words(name: str) -> list[str]:
    """domain.follows.FollowedAuthor.words as of this revision (a migration keeps its own copy)."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    found = "".join(char if char.isalnum() else " " for char in folded).split()
    return sorted({word for word in found if not (len(word) == 1 and word.isalpha())})


def upgrade() -> None:
    op.add_column("followed_authors", sa.Column("words", ARRAY(sa.Text), nullable=False, server_default="{}"))
    table = sa.table("followed_authors", sa.column("id"), sa.column("author"), sa.column("words", ARRAY(sa.Text)))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.author)).all()
    for follow_id, author in rows:
        connection.execute(table.update().where(table.c.id == follow_id).values(words=_words(author)))
    op.create_index("followed_authors_words", "followed_authors", ["words"], postgresql_using="gin")
    op.drop_index("followed_authors_key", table_name="followed_authors")


def downgrade() -> None:
    op.create_index("followed_authors_key", "followed_authors", ["key"])
    op.drop_index("followed_authors_words", table_name="followed_authors")
    op.drop_column("followed_authors", "words")
