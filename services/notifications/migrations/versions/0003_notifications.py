"""The notifications service's own tables: the recipients projection, notifications, templates, reminders
and the schedule steps already told.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False)


def _moment(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        *(_text(name) for name in ("email", "phone", "display_name", "card_number", "home_branch", "locale")),
        _text("time_zone"),
        _text("status"),
        sa.Column("email_opt_in", sa.Boolean, nullable=False),
        sa.Column("sms_opt_in", sa.Boolean, nullable=False),
        sa.Column("kinds", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _moment("status_at", nullable=True),
    )
    op.create_table(
        "notifications",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("recipient_id", UUID(as_uuid=True), nullable=False),
        *(_text(name) for name in ("channel", "address", "kind", "template")),
        sa.Column("template_version", sa.Integer, nullable=False),
        _text("locale"),
        sa.Column("params", JSONB, nullable=False),
        *(_text(name) for name in ("subject", "body", "html", "status")),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        *(_text(name) for name in ("last_error", "suppress_reason", "provider_message_id")),
        sa.Column("source_event_id", UUID(as_uuid=True)),
        _moment("event_at", nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        _moment("sent_at", nullable=True),
        _moment("next_attempt_at"),
        sa.Column("claimed_by", sa.Text),
        _moment("claimed_until", nullable=True),
        sa.Column("trace", JSONB, nullable=False),
        _text("time_zone"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("source_event_id", "channel", "recipient_id", name="notifications_event_channel_recipient"),
    )
    op.create_index(
        "notifications_due",
        "notifications",
        ["channel", "next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "notifications_recipient_created",
        "notifications",
        ["recipient_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index("notifications_created", "notifications", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_table(
        "step_keys",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "reminders",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        _moment("due_at"),
        sa.Column("occurrence", JSONB, nullable=False),
    )
    op.create_index("ix_reminders_due_at", "reminders", ["due_at"])
    op.create_table(
        "templates",
        sa.Column("id", sa.Text, primary_key=True),
        *(_text(name) for name in ("kind", "channel", "locale", "subject", "body", "html")),
        sa.Column("version", sa.Integer, nullable=False),
        _moment("updated_at"),
    )


def downgrade() -> None:
    for table in ("templates", "reminders", "step_keys", "notifications", "recipients"):
        op.drop_table(table)
