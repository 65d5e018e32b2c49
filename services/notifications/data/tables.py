"""The notifications database: every table and index the migrations create (tests compare the two)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()

# The projection of accounts, kept from the users service's events.
recipients = sa.Table(
    "recipients",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("card_number", sa.Text, nullable=False),
    sa.Column("home_branch", sa.Text, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("email_opt_in", sa.Boolean, nullable=False),
    sa.Column("sms_opt_in", sa.Boolean, nullable=False),
    sa.Column("kinds", JSONB, nullable=False),  # {"hold_ready": {"email": true, "sms": false}, …}
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status_at", sa.DateTime(timezone=True)),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("recipient_id", UUID(as_uuid=True), nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("template_version", sa.Integer, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("suppress_reason", sa.Text, nullable=False),
    sa.Column("provider_message_id", sa.Text, nullable=False),
    sa.Column("source_event_id", UUID(as_uuid=True)),
    sa.Column("event_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.Text),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("trace", JSONB, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Who sent it and who last retried it ("users/{user}"; "" for the system): the audit trail names them.
    sa.Column("sent_by", sa.Text, nullable=False, server_default=""),
    sa.Column("retried_by", sa.Text, nullable=False, server_default=""),
    # What a reminder is about ("loans/{loan}", "holds/{hold}"; "" for the rest) and the moment it announces:
    # one still waiting when its loan is returned, or past that moment, is not sent.
    sa.Column("about", sa.Text, nullable=False, server_default=""),
    sa.Column("stale_at", sa.DateTime(timezone=True)),
    # One notification per event, channel and recipient: a redelivered event never sends twice.
    sa.UniqueConstraint("source_event_id", "channel", "recipient_id", name="notifications_event_channel_recipient"),
)
# The dispatchers look for what is due on their channel.
sa.Index(
    "notifications_due",
    notifications.c.channel,
    notifications.c.next_attempt_at,
    postgresql_where=notifications.c.status == "queued",
)
# Lists walk newest first (keyset on created_at, id), all or one recipient's; the SMS limit counts one's.
sa.Index(
    "notifications_recipient_created",
    notifications.c.recipient_id,
    notifications.c.created_at.desc(),
    notifications.c.id.desc(),
)
# The end of a loan or a hold finds the notifications still waiting about it.
sa.Index(
    "notifications_queued_about",
    notifications.c.about,
    postgresql_where=sa.and_(notifications.c.status == "queued", notifications.c.about != ""),
)
sa.Index("notifications_created", notifications.c.created_at.desc(), notifications.c.id.desc())
# The SMS limit also counts one phone number's (many accounts may give the same unverified number).
sa.Index(
    "notifications_sms_address_created",
    notifications.c.address,
    notifications.c.created_at,
    postgresql_where=notifications.c.channel == "sms",
)

# Schedule steps already told (loan, kind, due time, step): each reminder goes out once.
step_keys = sa.Table(
    "step_keys",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Reminders notifications will send themselves unless cancelled first (a hold about to expire).
reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("occurrence", JSONB, nullable=False),
)

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # <kind>_<channel>_<locale>
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False, server_default=""),  # "users/{user}"; "" for a built-in one
)

# Authors readers follow: a new book by one is announced to its followers.
followed_authors = sa.Table(
    "followed_authors",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), nullable=False),
    sa.Column("author", sa.Text, nullable=False),  # as the reader typed it
    sa.Column("key", sa.Text, nullable=False),  # domain.follows.author_key: one follow per reader and name
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # FollowedAuthor.words: the name's whole words (no initials), what a book's authors find it by
    sa.Column("words", ARRAY(sa.Text), nullable=False, server_default="{}"),
    # One follow per reader and author; also serves a reader's list and count.
    sa.UniqueConstraint("user_id", "key", name="followed_authors_user_key"),
)
# A new book finds the follows sharing a word with its authors (`words && :words`), then matches them whole.
sa.Index("followed_authors_words", followed_authors.c.words, postgresql_using="gin")
