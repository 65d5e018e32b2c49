# ruff: noqa: RUF001 (Cyrillic on purpose: the letters folded, as the repository's statement writes them)
"""Staff's patron search (ListUsers `query`) reads trigram indexes instead of every account (findings-scale F4:
a card number scanned at the desk took ~0.35-0.5 s at 50,000 accounts, two sequential scans of four
ILIKE '%…%' each). One GIN trigram index per column the substring search matches: email, phone, card number,
and the display name with yo as ye (data/users.py _FOLDED_NAME: the same expression, or it is not used). Built
as the catalog's search indexes are (migrations 0002 and 0005 there): pg_trgm, gin_trgm_ops, without a pending
list (`fastupdate = off`: accounts are read far more often than written, and the planner priced a pending
list into sequential scans). In the migration's transaction, as every index here, under the runner's
lock_timeout and retries (support/runtime/migrations.py); a build blocks account writes for its few seconds.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "users_email_trgm": "email",
    "users_phone_trgm": "phone",
    "users_card_number_trgm": "card_number",
    "users_display_name_trgm": "(translate(display_name, 'ёЁ', 'еЕ'))",
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON users USING gin ({expression} gin_trgm_ops) WITH (fastupdate = off)")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="users")
