"""A barcode is one label whatever its letter case: unique on lower(barcode), which look-ups use too.

Copies whose barcodes differ only in case ("k002" and "K002", allowed until now) stop the migration, with
nothing changed: which of two physical labels to change is the library's choice, not the migration's, and
leaving both would make a scan of either ambiguous. The message names every pair; give one copy of each
another barcode (the running release can: PATCH the copy with update_mask=barcode, once it is not out on
loan or on the hold shelf), relabel that item, and migrate again.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SHOWN = 20


class BarcodeCaseTwins(RuntimeError):
    """Copies whose barcodes differ only in letter case, which the new unique index cannot take."""


def _twins(connection: sa.Connection) -> list[tuple[str, list[str]]]:
    rows = connection.execute(
        sa.text(
            "SELECT lower(barcode), array_agg(barcode || ' (books/' || book_id || '/copies/' || id || ')' "
            "ORDER BY barcode) FROM copies GROUP BY lower(barcode) HAVING count(*) > 1 ORDER BY 1"
        )
    )
    return [(folded, list(copies)) for folded, copies in rows]


def upgrade() -> None:
    # No copy is written between the check and the index (the index build takes this lock anyway).
    op.execute("LOCK TABLE copies IN SHARE MODE")
    if twins := _twins(op.get_bind()):
        listed = "\n".join(f"  {' / '.join(copies)}" for _, copies in twins[:SHOWN])
        more = f"\n  … and {len(twins) - SHOWN} more" if len(twins) > SHOWN else ""
        raise BarcodeCaseTwins(
            f"catalog migration 0007 stopped, nothing changed: {len(twins)} barcode(s) are shared by copies that "
            f"differ only in letter case, and from this release a barcode matches whatever its case.\n{listed}{more}\n"
            "Give one copy of each group another barcode (PATCH the copy with update_mask=barcode once it is "
            "back on the shelf), relabel that item, then migrate again."
        )
    op.create_index("copies_barcode_any_case", "copies", [sa.text("lower(barcode)")], unique=True)


def downgrade() -> None:
    op.drop_index("copies_barcode_any_case", table_name="copies")
