"""Typo-tolerant search finds a word with one letter wrong: the word similarity a match needs, 0.5 (pg_trgm's
default 0.6 missed "margerita" for "Margarita", "маргорита", "булгков": one letter changed in a word of 7-9
letters scores about 0.54). It is the database's default for every session, so that the index-backed `<%`
operator uses it; only searches whose full text finds too few books take the typo-tolerant path.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

THRESHOLD = "0.5"
# pg_trgm's settings exist once its library is loaded: a call loads it, so that the database's owner may set them.
LOAD_PG_TRGM = "SELECT word_similarity('', '')"
IN_THIS_DATABASE = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I {}', current_database()); END $$"


def upgrade() -> None:
    op.execute(LOAD_PG_TRGM)
    op.execute(IN_THIS_DATABASE.format(f"SET pg_trgm.word_similarity_threshold = {THRESHOLD}"))


def downgrade() -> None:
    op.execute(LOAD_PG_TRGM)
    op.execute(IN_THIS_DATABASE.format("RESET pg_trgm.word_similarity_threshold"))
