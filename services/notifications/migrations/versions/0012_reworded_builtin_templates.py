"""Built-in templates reworded (findings A8, A14): the Russian subjects and SMS no longer make the title the
grammatical subject («Идиот» продлена), and the hold notices say the copy went to the next reader only when one
was waiting. Stored copies nobody edited (their text is still the old built-in one, by its
SHA-256) take the new words, as a new version; edited ones are left as they are.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_BUILTIN = {
    "loan_returned_sms_ru": "e79754c1cdb24ec12c733b187361625498e98252d250f80ed283a57f9726d8bc",
    "loan_renewed_email_ru": "476bcfbf5c792a09850fb80821e9fc073734814f225aa3df871f222438765f11",
    "loan_renewed_sms_ru": "c4c275022e8fcd71c0efd7107073e0b0449e69c9df742daca98178fc15ca6d5c",
    "due_soon_sms_ru": "d99446abc4f84c6ea9226cf5424217970dac698f2ba3ec77adfdddb2611acc62",
    "overdue_email_ru": "204f2b6f55725361225f1c272e6e1cf2bdcd1b83850a54f42206b5ee696db888",
    "overdue_sms_ru": "9c623b99347dc3200942d87f94f4667530d0a991b7550d3a9425c312638d8732",
    "hold_ready_email_en": "d53c36468b901157862cd6a023cce0b7a956c7dbb8e80ec7b2fd9dae9f8d3fd5",
    "hold_ready_email_ru": "e15764dd5f12705dad901a62b6594038dace7b2a72abe6d7b6edb9271cb8b042",
    "hold_ready_sms_ru": "362bd860b4c69e1f82d7164a61f549970ab8b221e6497bf40948d192091b22e6",
    "hold_expiring_sms_en": "10e368dc50b08d14e0fd12476585d94a664ae4724e82bb5c09641f7dca01fadb",
    "hold_expiring_sms_ru": "3c4bf2a62199abef430cc806f8d744f1caf49a30f0ea4a2de6ec59c59e0384cd",
    "hold_expired_email_en": "0a30124707cf35b422eba28981a78be1330a1cbdb60184dd10f52d5704569792",
    "hold_expired_email_ru": "5b1672cee5f314302871c7e88660cd628baffc8f704008dd41d15e279baebc17",
}
"""Template id -> SHA-256 of the old built-in subject, body and html (joined by U+001F)."""


def upgrade() -> None:
    from services.notifications.data.template_rewording import reword_untouched

    reword_untouched(op.get_bind(), OLD_BUILTIN)


def downgrade() -> None:
    """The old words are not restored (they were the defect)."""
