"""Circulation: rules matrix (with the */* default row), loans (the issue saga's log), fines with their
audit trail, holds.

Revision ID: 0002
Revises: 0001
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)
ACTIVE_HOLD = sa.text("status IN ('WAITING', 'READY')")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    ]


def _rule_terms() -> list[sa.Column]:
    return [
        sa.Column("loan_period_days", sa.Integer, nullable=False),
        sa.Column("max_renewals", sa.Integer, nullable=False),
        sa.Column("renewal_period_days", sa.Integer, nullable=False),
        sa.Column("max_loans", sa.Integer, nullable=False),
        sa.Column("fine_per_day", MONEY, nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False),
        sa.Column("fine_cap", MONEY),
        sa.Column("max_outstanding_fines", MONEY),
        sa.Column("holds_allowed", sa.Boolean, nullable=False),
        sa.Column("max_holds", sa.Integer, nullable=False),
        sa.Column("hold_pickup_days", sa.Integer, nullable=False),
        sa.Column("hard_due_at", sa.DateTime(timezone=True)),
    ]


def upgrade() -> None:
    rules = op.create_table(
        "circulation_rules",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("patron_category", sa.Text, nullable=False),
        sa.Column("item_type", sa.Text, nullable=False),
        *_rule_terms(),
        *_timestamps(),
        sa.UniqueConstraint("patron_category", "item_type", name="circulation_rules_category_item_type_key"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "id": uuid.uuid4(),
                "patron_category": "*",
                "item_type": "*",
                "loan_period_days": 14,
                "max_renewals": 2,
                "renewal_period_days": 14,
                "max_loans": 5,
                "fine_per_day": "0.10",
                "grace_days": 0,
                "fine_cap": "5.00",
                "max_outstanding_fines": "10.00",
                "holds_allowed": True,
                "max_holds": 5,
                "hold_pickup_days": 7,
                "hard_due_at": None,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        ],
    )
    op.create_table(
        "loans",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("request_id", UUID(as_uuid=True)),
        sa.Column("patron", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("book", sa.Text, nullable=False, server_default=""),
        sa.Column("barcode", sa.Text, nullable=False, server_default=""),
        sa.Column("requested_copy", sa.Text, nullable=False, server_default=""),
        sa.Column("hold", sa.Text, nullable=False, server_default=""),
        sa.Column("copy", sa.Text, nullable=False, server_default=""),
        sa.Column("book_title", sa.Text, nullable=False, server_default=""),
        sa.Column("item_type", sa.Text, nullable=False, server_default=""),
        sa.Column("issued_at", sa.DateTime(timezone=True)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("returned_at", sa.DateTime(timezone=True)),
        sa.Column("renewal_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rule", sa.Text, nullable=False, server_default=""),
        sa.Column("terms", sa.JSON),
        sa.Column("issued_by", sa.Text, nullable=False, server_default=""),
        sa.Column("compensated", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failure_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("overdue_notified_days", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_soon_notified", sa.Boolean, nullable=False, server_default=sa.false()),
        *_timestamps(),
    )
    # A retried issue finds its loan; a failed attempt frees the id for the next one.
    op.create_index(
        "loans_request_id", "loans", ["request_id"], unique=True, postgresql_where=sa.text("status <> 'FAILED'")
    )
    # The database itself refuses a second active loan of one copy: no oversell even if a peer is wrong.
    op.create_index("loans_active_copy", "loans", ["copy"], unique=True, postgresql_where=sa.text("status = 'ACTIVE'"))
    op.create_index("loans_patron_created", "loans", ["patron", sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index("loans_created", "loans", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index("loans_active_due", "loans", ["due_at"], postgresql_where=sa.text("status = 'ACTIVE'"))
    op.create_index("loans_active_barcode", "loans", ["barcode"], postgresql_where=sa.text("status = 'ACTIVE'"))
    op.create_index(
        "loans_unsettled", "loans", ["created_at"], postgresql_where=sa.text("status = 'PENDING' OR NOT compensated")
    )
    op.create_table(
        "fines",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("patron", sa.Text, nullable=False),
        sa.Column("loan", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("paid", MONEY, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("waive_reason", sa.Text, nullable=False, server_default=""),
        *_timestamps(),
    )
    op.create_index(
        "fines_one_overdue_per_loan", "fines", ["loan"], unique=True, postgresql_where=sa.text("kind = 'OVERDUE'")
    )
    op.create_index("fines_patron_created", "fines", ["patron", sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index("fines_created", "fines", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_table(
        "fine_entries",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("fine_id", UUID(as_uuid=True), sa.ForeignKey("fines.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False, server_default=""),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("fine_entries_fine", "fine_entries", ["fine_id", "seq"])
    op.create_table(
        "holds",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("patron", sa.Text, nullable=False),
        sa.Column("book", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("pickup_branch", sa.Text, nullable=False, server_default=""),
        sa.Column("pickup_days", sa.Integer, nullable=False),
        sa.Column("copy", sa.Text, nullable=False, server_default=""),
        sa.Column("loan", sa.Text, nullable=False, server_default=""),
        sa.Column("ready_at", sa.DateTime(timezone=True)),
        sa.Column("expire_at", sa.DateTime(timezone=True)),
        sa.Column("cancel_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("shelf_released", sa.Boolean, nullable=False, server_default=sa.true()),
        *_timestamps(),
    )
    op.create_index(
        "holds_one_active_per_patron_book", "holds", ["patron", "book"], unique=True, postgresql_where=ACTIVE_HOLD
    )
    op.create_index("holds_book_queue", "holds", ["book", "seq"], postgresql_where=ACTIVE_HOLD)
    op.create_index("holds_patron_seq", "holds", ["patron", "seq"])


def downgrade() -> None:
    for table in ("holds", "fine_entries", "fines", "loans", "circulation_rules"):
        op.drop_table(table)
