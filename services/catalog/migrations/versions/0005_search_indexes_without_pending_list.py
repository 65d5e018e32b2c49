"""The search indexes (GIN) take each new row at once instead of through a pending list.

With `fastupdate` on, GIN indexes gather new entries in an unsorted pending list until a vacuum (or 4 MB of
them) merges it. Every search scans that list whole, and the planner, pricing it in, turned to sequential
scans after an import: a trigram match then read every book (~70 ms on the 10,000-title demo library
instead of ~0.2 ms). The catalog is read far more often than written; an import pays a little more instead.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = ("books_search_vector", "books_search_text_trgm", "books_authors", "books_subjects")


def upgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")  # what an earlier import left


def downgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
