"""ListBooks' `order_by=title` in alphabetical order: by a key of the title's letters whatever their case, the
letter yo filed with ye, then by the title itself. Titles sorted by their code points put every capitalised title
before every lower-case one ("Zebra" before "apple") and Cyrillic upper case before lower case.

The key lower-cases as catalog_fold does (migration 0002: not depending on the database's locale), written out
rather than called: Postgres 17 builds an index with search_path = pg_catalog, where a call by name from a
function's body is not found.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    has_unicode_fold = op.get_bind().scalar(sa.text("SELECT count(*) FROM pg_collation WHERE collname = 'pg_c_utf8'"))
    collation = '"pg_c_utf8"' if has_unicode_fold else '"default"'
    op.execute(
        "CREATE FUNCTION catalog_title_key(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT translate(lower(value COLLATE {collation}), '\u0451', '\u0435') $$"  # yo as ye
    )
    op.execute("CREATE INDEX books_title_key_id ON books (catalog_title_key(title), title, id)")
    op.drop_index("books_title_id", table_name="books")


def downgrade() -> None:
    op.create_index("books_title_id", "books", ["title", "id"])
    op.drop_index("books_title_key_id", table_name="books")
    op.execute("DROP FUNCTION catalog_title_key(text)")
