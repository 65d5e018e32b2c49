"""Every SMS the service ships with, in each language and each of its variants, takes at most the default
number of segments (ATHENAEUM_SMS_MAX_SEGMENTS) however long its title, author or address: the wording alone
leaves room for a title of MIN_KEPT characters, and a notice whose other values leave less shortens the title
further, down to an ellipsis, rather than going over (finding NF8)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from services.notifications.data.batch_seeds import BATCH_TEMPLATES
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.sms_text import MIN_KEPT, fitted, segments
from services.notifications.domain.templates import Template
from services.notifications.settings import NotificationsSettings

RENDERER = JinjaRenderer()
MAX_SEGMENTS = NotificationsSettings.model_fields["sms_max_segments"].default
TITLE = {"en": "Remarkable" * 20, "ru": "Удивительная" * 20}
"""No spaces: a title kept to n characters shows exactly its first n."""
ADDRESS = "alexandra.konstantinopolskaya-rimskaya.korsakova@mail.example.org"
SAMPLES = {
    "en": {
        "library_name": "Athenaeum Library",
        "due_date": "Wednesday, 30 September 2026",
        "previous_due_date": "Wednesday, 16 September 2026",
        "pickup_deadline": "Wednesday, 30 September 2026, 23:59 UTC",
        "changed_at": "Wednesday, 30 September 2026, 23:59 UTC",
        "revoked_at": "Wednesday, 30 September 2026, 23:59 UTC",
        "amount": "1,250.50",
        "currency": "euros",
        "book_count_words": "12 books",
        "author": "Alexandra Konstantinopolskaya-Rimskaya " * 3,
    },
    "ru": {
        "library_name": "Athenaeum Library",
        "due_date": "30 сентября 2026 (воскресенье)",
        "previous_due_date": "16 сентября 2026 (воскресенье)",
        "pickup_deadline": "30 сентября 2026 (воскресенье), 23:59 MSK",
        "changed_at": "30 сентября 2026 (воскресенье), 23:59 MSK",
        "revoked_at": "30 сентября 2026 (воскресенье), 23:59 MSK",
        "amount": "1 250,50",
        "currency": "рублей",
        "book_count_words": "12 книг",
        "author": "Александра Константинопольская-Римская " * 3,
    },
}
COMMON = {
    "branch": "CENTRAL",
    "previous_branch": "NORTHEAST",
    "barcode": "31234000012345",
    "card_number": "31234000012345",
    "overdue_days": "120",
    "notice_number": "3",
    "days_left": "3",
    "new_email": ADDRESS,
    "book_id": "7d5e3c1a-3b8f-4c0e-9a51-0c6f2b1d9e44",
    "book_count": "12",
    "fine_amount": "12.50",
    "description": "Overdue fine",
}
VARIANTS = {
    "why": ("may_not_borrow", "damaged", "withdrawn", "missing"),
    "was_ready": ("yes", ""),
    "can_renew": ("yes", ""),
    "passed_on": ("yes", "no", ""),
    "new_phone": ("+7 999 123-45-67", ""),
    "reason": ("", "the copy was found damaged at the desk, its spine broken " * 3),
    "web_url": ("https://library.example.org", ""),
    "book_titles": ("", "«Первая», «Вторая», «Третья» and more " * 8),
    "authors": ("", "Arkady Strugatsky, Boris Strugatsky"),
}
SMS = sorted(
    (t for t in {**BUILTIN, **BATCH_TEMPLATES}.values() if t.channel == Channel.SMS and t.kind != Kind.MESSAGE),
    key=lambda t: t.id,
)
LINKED = {Kind.NEW_BOOK_BY_AUTHOR}
"""Kinds whose SMS carries a link and the authors' names in full: the title may have to give way to them."""


def _variants(template: Template) -> Iterator[dict[str, str]]:
    names = [name for name in VARIANTS if name in template.body]
    for chosen in itertools.product(*(VARIANTS[name] for name in names)):
        chosen_values = dict(zip(names, chosen, strict=True))
        yield COMMON | SAMPLES[template.locale] | chosen_values | {"book_title": TITLE[template.locale]}


def _sent(template: Template, values: dict[str, str]) -> str:
    return fitted(lambda v: RENDERER.render(template, v).text.strip(), values, max_segments=MAX_SEGMENTS)


@pytest.mark.parametrize("template", SMS, ids=lambda t: t.id)
def test_every_builtin_sms_fits_the_default_segments_whatever_its_values(template: Template) -> None:
    for values in _variants(template):
        text = _sent(template, values)
        assert segments(text) <= MAX_SEGMENTS, (len(text), text)


WITH_A_TITLE = [t for t in SMS if "{{ book_title }}" in t.body and t.kind not in LINKED]


@pytest.mark.parametrize("template", WITH_A_TITLE, ids=lambda t: t.id)
def test_every_builtin_sms_leaves_room_for_the_start_of_a_title(template: Template) -> None:
    for values in _variants(template):
        assert TITLE[template.locale][:MIN_KEPT] in _sent(template, values)


def test_the_russian_requeued_hold_sms_of_the_report_is_two_segments() -> None:
    template = BUILTIN["hold_requeued_sms_ru"]
    values = SAMPLES["ru"] | {"book_title": "Мастер и Маргарита", "why": "may_not_borrow", "was_ready": "yes"}
    text = _sent(template, values)
    assert "«Мастер и Маргарита»" in text and segments(text) == 2


def test_a_title_gives_way_entirely_when_nothing_else_may_be_shortened() -> None:
    template = BUILTIN["hold_ready_sms_ru"]
    values = SAMPLES["ru"] | {"book_title": TITLE["ru"], "branch": "C" * 36}  # leaves room for the ellipsis only
    text = _sent(template, values)
    assert segments(text) == 2 and "книга «…» ждёт вас" in text, text
