"""Shorter built-in Russian SMS (finding NF8): the hold-back-in-the-queue notice, the email-changed one with an
ordinary address and the new-book one with its link took three segments, past the default maximum of two,
whatever the title. Stored copies nobody edited (their text still the old built-in one, by its SHA-256) take
the new words, as a new version; edited ones are left as they are.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD_BUILTIN = {
    "hold_requeued_sms_ru": "21b40b323e23fa1638591c5e0ad9d5435d2cc5cc667355c2c89140422ddfc615",
    "email_changed_sms_ru": "ee7eb0077c71a7affc7088654281b79933a2bbb26bfe5acbdb62a6ff46f07de0",
    "new_book_by_author_sms_ru": "0f883c7af6f5db60b16b876c89dfea1be4ffb41fe1ec12c97b7aaa2fad692d12",
}
"""Template id -> SHA-256 of the old built-in subject, body and html (joined by U+001F)."""


def upgrade() -> None:
    from services.notifications.data.template_rewording import reword_untouched

    reword_untouched(op.get_bind(), OLD_BUILTIN)


def downgrade() -> None:
    """The old words are not restored (they took three segments)."""
