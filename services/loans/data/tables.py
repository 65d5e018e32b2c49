"""The loans database: every table and index the migrations create (a test compares the two), and what the
repositories query."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()
MONEY = sa.Numeric(12, 2)
ACTIVE_LOAN = sa.text("status = 'ACTIVE'")
ACTIVE_HOLD = sa.text("status IN ('WAITING', 'IN_TRANSIT', 'READY')")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    ]


def _rule_terms() -> list[sa.Column[object]]:
    """The lending terms, on a rule and (as issued) on each loan."""
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


circulation_rules = sa.Table(
    "circulation_rules",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("patron_category", sa.Text, nullable=False),
    sa.Column("item_type", sa.Text, nullable=False),
    *_rule_terms(),
    *_timestamps(),
    sa.UniqueConstraint("patron_category", "item_type", name="circulation_rules_category_item_type_key"),
)

# Charges held for an account being closed (GetClosingStanding; migration 0023): until `until` AssessFine takes
# none for the patron, so that the close the users service commits meanwhile is never passed by one.
account_closings = sa.Table(
    "account_closings",
    metadata,
    sa.Column("patron", sa.Text, primary_key=True),
    sa.Column("until", sa.DateTime(timezone=True), nullable=False),
)

# The catalog's item type renames the rules have followed (migration 0022): the newest time each code was given
# to a type, written with the re-keyed rules. An issue lends a copy of a renamed type only by rules that cover
# its rename; the "*" row stands for every rename made before renames were recorded.
item_type_renames = sa.Table(
    "item_type_renames",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("renamed_at", sa.DateTime(timezone=True), nullable=False),
)

loans = sa.Table(
    "loans",
    metadata,
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
    sa.Column("book_language", sa.Text, nullable=False, server_default=""),  # 0022
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
    # Unused since 0005 (the reminder schedule's two columns below replaced them); kept while a release older
    # than 0005 may still run on this database, dropped by a later migration.
    sa.Column("overdue_notified_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_soon_notified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_reminder_at", sa.DateTime(timezone=True)),
    sa.Column("return_started_at", sa.DateTime(timezone=True)),
    # A returned loan's overdue days when it came back (NULL: returned before they were kept) and its overdue fine.
    sa.Column("returned_overdue_days", sa.Integer),
    sa.Column("fine", sa.Text, nullable=False, server_default=""),
    # A declaration of loss under way (with return_started_at), then the LOST_ITEM fine it assessed.
    sa.Column("lost_fee", MONEY),
    sa.Column("lost_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("lost_fine", sa.Text, nullable=False, server_default=""),
    # Where its return put the copy: the hold it was trapped for, and the branch it was sent to (0015).
    sa.Column("trapped_hold", sa.Text, nullable=False, server_default=""),
    sa.Column("transit_branch", sa.Text, nullable=False, server_default=""),
    # The request_id of the return begun, answered with the loan once another step closed it (0019).
    sa.Column("return_request", sa.Text, nullable=False, server_default=""),
    *_timestamps(),
)
UNUSED_LOAN_COLUMNS = frozenset({"overdue_notified_days", "due_soon_notified"})
# A retried issue finds its loan; a failed attempt frees the id for the next one.
sa.Index("loans_request_id", loans.c.request_id, unique=True, postgresql_where=sa.text("status <> 'FAILED'"))
# The database itself refuses a second active loan of one copy: no oversell even if a peer is wrong.
sa.Index("loans_active_copy", loans.c.copy, unique=True, postgresql_where=ACTIVE_LOAN)
# Lists, newest first (keyset on created_at, id), of one patron or of everyone.
sa.Index("loans_patron_created", loans.c.patron, loans.c.created_at.desc(), loans.c.id.desc())
sa.Index("loans_created", loans.c.created_at.desc(), loans.c.id.desc())
# The reconciler's overdue pass, returns by barcode, and unfinished sagas.
sa.Index("loans_active_due", loans.c.due_at, postgresql_where=ACTIVE_LOAN)
sa.Index("loans_active_barcode_any_case", sa.func.lower(loans.c.barcode), postgresql_where=ACTIVE_LOAN)
sa.Index("loans_unsettled", loans.c.created_at, postgresql_where=sa.text("status = 'PENDING' OR NOT compensated"))
# Returns begun and not finished (the reconciler completes or abandons them).
sa.Index(
    "loans_return_started",
    loans.c.return_started_at,
    postgresql_where=sa.text("status = 'ACTIVE' AND return_started_at IS NOT NULL"),
)
# The reminder pass: active loans whose next step (or first look) has come.
sa.Index("loans_next_reminder", loans.c.next_reminder_at, postgresql_where=ACTIVE_LOAN)

fines = sa.Table(
    "fines",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("patron", sa.Text, nullable=False),
    sa.Column("loan", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False),
    # Forgiven so far: what a fine owes is amount - paid - waived (a waived overdue fine still grows).
    sa.Column("waived", MONEY, nullable=False, server_default="0"),
    # Paid and owed back, the charge withdrawn (a lost copy found): part of `paid`.
    sa.Column("refund_due", MONEY, nullable=False, server_default="0"),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("waive_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("book_language", sa.Text, nullable=False, server_default=""),  # 0022
    *_timestamps(),
)
# One overdue fine per loan: it grows while the loan is late.
sa.Index("fines_one_overdue_per_loan", fines.c.loan, unique=True, postgresql_where=sa.text("kind = 'OVERDUE'"))
sa.Index("fines_patron_created", fines.c.patron, fines.c.created_at.desc(), fines.c.id.desc())
sa.Index("fines_created", fines.c.created_at.desc(), fines.c.id.desc())

fine_entries = sa.Table(
    "fine_entries",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("fine_id", UUID(as_uuid=True), sa.ForeignKey("fines.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False, server_default=""),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("fine_entries_fine", fine_entries.c.fine_id, fine_entries.c.seq)

HOLD_DESCRIPTION = ("book_title", "barcode", "copy_branch", "call_number", "shelf_location")
"""What the desk lists show of a hold's book and copy, kept on it (see migration 0017)."""
holds = sa.Table(
    "holds",
    metadata,
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
    sa.Column("to_pull", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hold_shelf_branch", sa.Text, nullable=False, server_default=""),  # 0016
    *[sa.Column(name, sa.Text, nullable=False, server_default="") for name in HOLD_DESCRIPTION],  # 0017
    sa.Column("copy_version", sa.BigInteger, nullable=False, server_default="0"),  # 0018
    sa.Column("book_language", sa.Text, nullable=False, server_default=""),  # 0022
    *_timestamps(),
)
# One active (WAITING, IN_TRANSIT or READY) hold per patron and book; a queue in order; a patron's holds in order.
sa.Index("holds_one_active_per_patron_book", holds.c.patron, holds.c.book, unique=True, postgresql_where=ACTIVE_HOLD)
sa.Index("holds_book_queue", holds.c.book, holds.c.seq, postgresql_where=ACTIVE_HOLD)
sa.Index("holds_patron_seq", holds.c.patron, holds.c.seq)
# One copy set aside for one active hold at most (finding C4: a pass-over cut by a crash left two holds IN_TRANSIT
# with one copy, and the reconciler, reading the holds by copy, saw only one; see migration 0018).
sa.Index(
    "holds_one_set_aside_per_copy",
    holds.c.copy,
    unique=True,
    postgresql_where=sa.text("status IN ('IN_TRANSIT', 'READY') AND copy <> ''"),
)
sa.Index("holds_ready_by_deadline", holds.c.expire_at, holds.c.seq, postgresql_where=sa.text("status = 'READY'"))
# The holds a copy the catalog redescribes is set aside for (copy_feed.py).
sa.Index("holds_set_aside_copy", holds.c.copy, postgresql_where=sa.text("status IN ('IN_TRANSIT', 'READY')"))

# What loans knows of each account, kept from the users service's events (a projection: a row is the newest
# version of the account an event carried; loans lends by it only when it is provably current).
patrons = sa.Table(
    "patrons",
    metadata,
    sa.Column("patron", sa.Text, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("patron_category", sa.Text, nullable=False),
    sa.Column("home_branch", sa.Text, nullable=False),
    sa.Column("expire_at", sa.DateTime(timezone=True)),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),  # 0017
    sa.Column("card_number", sa.Text, nullable=False, server_default=""),
)
# The stream the projection was built from, as NATS identifies it (its creation time): a projection goes on only
# from the stream it was built from (users_feed.AccountsConsumer forgets it otherwise).
patron_feed = sa.Table(
    "patron_feed",
    metadata,
    sa.Column("stream", sa.Text, primary_key=True),
    sa.Column("created", sa.Text, nullable=False),
)
# The library's closed days (its calendar), by date in its time zone: a loan or a READY hold that would end on
# one ends on the next open day.
closed_days = sa.Table(
    "closed_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
