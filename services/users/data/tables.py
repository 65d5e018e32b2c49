"""The users database: every table and index the migrations create (tests compare the two)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.users.domain.patron_search import YO_FROM, YO_TO

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),  # stored normalized (lower-case)
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("phone", sa.Text, nullable=False, server_default=""),
    sa.Column("card_number", sa.Text, nullable=False, unique=True),
    sa.Column("patron_category", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("home_branch", sa.Text, nullable=False, server_default=""),
    sa.Column("expire_at", sa.DateTime(timezone=True)),
    sa.Column("email_opt_in", sa.Boolean, nullable=False),
    sa.Column("sms_opt_in", sa.Boolean, nullable=False),
    # {"hold_ready": {"email": true, "sms": false}, …}: NotificationPreferences.kinds.
    sa.Column("notification_kinds", JSONB, nullable=False, server_default="{}"),
    sa.Column("locale", sa.Text, nullable=False, server_default=""),
    sa.Column("time_zone", sa.Text, nullable=False, server_default=""),
    sa.Column("password_hash", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
# ListUsers walks accounts newest first (keyset on created_at, id).
sa.Index("users_created_at_id", users.c.created_at.desc(), users.c.id.desc())
# Its `query` matches substrings of these, names with yo as ye (migration 0010: trigram indexes). The name's
# fold is written with constants, as the search's statement must write it too for the index to serve it.
FOLDED_DISPLAY_NAME = sa.func.translate(
    users.c.display_name, sa.literal_column(f"'{YO_FROM}'"), sa.literal_column(f"'{YO_TO}'"), type_=sa.Text
)
for _column in (users.c.email, users.c.phone, users.c.card_number):
    _trigrams = {_column.name: "gin_trgm_ops"}
    sa.Index(f"users_{_column.name}_trgm", _column, postgresql_using="gin", postgresql_ops=_trigrams)
sa.Index(
    "users_display_name_trgm",
    FOLDED_DISPLAY_NAME.label("folded_name"),
    postgresql_using="gin",
    postgresql_ops={"folded_name": "gin_trgm_ops"},
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revoke_reason", sa.Text, nullable=False, server_default=""),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("digest", sa.Text, primary_key=True),  # SHA-256 of the token; the token itself is never stored
    sa.Column("session_id", UUID(as_uuid=True), sa.ForeignKey("sessions.id"), nullable=False, index=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

# One live password reset per account (a new request replaces it; using it deletes it).
password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("digest", sa.Text, nullable=False, unique=True),  # SHA-256 of the token; the token is never stored
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

sign_in_throttles = sa.Table(
    "sign_in_throttles",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),  # "account <email> from <address>" or "client <address>"
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("refused", sa.Integer, nullable=False, server_default="0"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.Text, primary_key=True),
    sa.Column("private_key_pem", sa.LargeBinary, nullable=False),  # encrypted with the configured passphrase
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("activates_at", sa.DateTime(timezone=True), nullable=False),
)
