"""Search (weighted full-text vector, trigram text) and inventory guards (one copy per loan and per hold).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Lower-casing must not depend on the database's LC_CTYPE: a cluster made with --no-locale ("C") leaves
# Cyrillic upper case, and "Война" would never match "война". pg_c_utf8 (PostgreSQL 17+) folds all of Unicode.
_FOLD = """
CREATE FUNCTION catalog_fold(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT lower(value COLLATE {collation}) $$
"""
# array_to_string is STABLE in general (element output functions may be), but for text[] it is not.
_JOIN = """
CREATE FUNCTION catalog_join(value text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT array_to_string(value, ' ') $$
"""
# 'russian' stems Cyrillic words with the Russian stemmer and Latin ones with the English stemmer.
# Weights: A title and subtitle, B authors, C subjects, D description; ts_rank's defaults rank A > B > C > D.
_VECTOR = """
setweight(to_tsvector('russian', catalog_fold(title || ' ' || subtitle)), 'A')
|| setweight(to_tsvector('russian', catalog_fold(catalog_join(authors))), 'B')
|| setweight(to_tsvector('russian', catalog_fold(catalog_join(subjects))), 'C')
|| setweight(to_tsvector('russian', catalog_fold(description)), 'D')
"""
# What a typo-tolerant (trigram) match looks at: title, subtitle and authors.
_TEXT = "catalog_fold(title || ' ' || subtitle || ' ' || catalog_join(authors))"


def upgrade() -> None:
    op.add_column("copies", sa.Column("call_number", sa.Text, nullable=False, server_default=""))
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    has_unicode_fold = op.get_bind().scalar(sa.text("SELECT count(*) FROM pg_collation WHERE collname = 'pg_c_utf8'"))
    op.execute(_FOLD.format(collation='"pg_c_utf8"' if has_unicode_fold else '"default"'))
    op.execute(_JOIN)
    op.execute(f"ALTER TABLE books ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_VECTOR}) STORED")
    op.execute(f"ALTER TABLE books ADD COLUMN search_text text GENERATED ALWAYS AS ({_TEXT}) STORED")
    op.execute("CREATE INDEX books_search_vector ON books USING gin (search_vector)")
    op.execute("CREATE INDEX books_search_text_trgm ON books USING gin (search_text gin_trgm_ops)")
    op.execute("CREATE INDEX books_authors ON books USING gin (authors)")
    op.execute("CREATE INDEX books_subjects ON books USING gin (subjects)")
    op.create_index("books_title_id", "books", ["title", "id"])
    op.create_index("books_language", "books", ["language"])
    # A loan or a hold holds at most one copy: the last guard behind the row locks of check-out and reserve.
    for column in ("current_loan", "current_hold"):
        op.create_index(
            f"copies_{column}", "copies", [column], unique=True, postgresql_where=sa.text(f"{column} IS NOT NULL")
        )
    op.create_index("copies_book_status", "copies", ["book_id", "status"])


def downgrade() -> None:
    for index in ("copies_book_status", "copies_current_hold", "copies_current_loan"):
        op.drop_index(index, table_name="copies")
    for index in ("books_language", "books_title_id", "books_subjects", "books_authors"):
        op.drop_index(index, table_name="books")
    op.execute("ALTER TABLE books DROP COLUMN search_text, DROP COLUMN search_vector")
    op.execute("DROP FUNCTION catalog_join(text[]), catalog_fold(text)")
    op.drop_column("copies", "call_number")
