"""Item types as a list the library keeps: a copy's item_type must be the code of one of them (a typo such as
"BOK" no longer falls to the circulation rules' "*" row), and a type may be not for loan (reference copies,
counted apart from a book's available copies).

Seeded with BOOK (a new copy's default) and every item type existing copies have (spelt upper case first, as
the service spells them), each described by its code;
all may be lent except a type named exactly REFERENCE, seeded not for loan (what such a type has meant in
every library we know; an admin can change it: PATCH itemTypes/REFERENCE with update_mask=not_for_loan).

Codes are seeded as old copies had them, so some break the rule new codes keep ("LARGE PRINT", "DVD/CD", "КНИГА",
over 20 characters): the API names them percent-encoded ("itemTypes/LARGE%20PRINT"), manages them as any other,
and RenameItemType re-spells one, its copies with it (README, "Item types after an upgrade").

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Copies written by the service have their type upper case already; one written by hand may not (the column's
# old default was "book"): every type is spelt as the service spells it, so one code names it.
RESPELL = (
    "UPDATE copies SET item_type = coalesce(nullif(upper(btrim(item_type)), ''), 'BOOK') "
    "WHERE item_type IS DISTINCT FROM coalesce(nullif(upper(btrim(item_type)), ''), 'BOOK')"
)
SEED = """
INSERT INTO item_types (code, description, not_for_loan, created_at, updated_at, version)
SELECT code, code, code = 'REFERENCE', now(), now(), 1
FROM (SELECT 'BOOK' AS code UNION SELECT DISTINCT item_type FROM copies) AS used
"""


def upgrade() -> None:
    op.create_table(
        "item_types",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("not_for_loan", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    # No copy gets a new type between the seed and the foreign key.
    op.execute("LOCK TABLE copies IN SHARE MODE")
    op.execute(RESPELL)
    op.execute(SEED)
    op.alter_column("copies", "item_type", server_default="BOOK")
    op.create_index("copies_item_type", "copies", ["item_type"])
    op.create_foreign_key("copies_item_type_fkey", "copies", "item_types", ["item_type"], ["code"])


def downgrade() -> None:
    op.drop_constraint("copies_item_type_fkey", "copies", type_="foreignkey")
    op.drop_index("copies_item_type", table_name="copies")
    op.alter_column("copies", "item_type", server_default="book")
    op.drop_table("item_types")
