"""The built-in templates of new_book_by_author word a digest too (finding B3): the later books of an hour by
a followed author, gathered into one notice ("3 more new books by …: “A”, “B” and “C”"), where before every
book after the first was dropped. Stored copies nobody edited (their text is still the old built-in one, by
its SHA-256) take the new words, as a new version; edited ones are left as they are (they are given the
digest's `book_count` and `book_titles`, and its first book as `book_title`).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_BUILTIN = {
    "new_book_by_author_email_en": "599ed708a4930e5f58ae902bc15fd367e773080b2e7ed5c0abc98deb493fc3f4",
    "new_book_by_author_email_ru": "c862fbe612aa93da0e276bbd99d929eb9165d8a655ceb23cf7d84592b1c2fe08",
    "new_book_by_author_sms_en": "29507ba430641770e16e1cc42f60354ce878b2af2e4d268f9f261fd756840b87",
    "new_book_by_author_sms_ru": "1404038782f843cf1f1c1cc9cbfd91862d24fbae3513915fddcc13793bf2a2af",
}
"""Template id -> SHA-256 of the old built-in subject, body and html (joined by U+001F)."""


def upgrade() -> None:
    from services.notifications.data.template_rewording import reword_untouched

    reword_untouched(op.get_bind(), OLD_BUILTIN)


def downgrade() -> None:
    """The old words are not restored (they dropped every book of the hour after the first)."""
