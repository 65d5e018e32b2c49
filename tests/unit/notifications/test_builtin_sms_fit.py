"""Every SMS the service ships with, in each language and each of its variants, takes at most the default
number of segments (ATHENAEUM_SMS_MAX_SEGMENTS) however long its title, author or address: the wording alone
leaves room for a title of MIN_KEPT characters, and a notice whose other values leave less shortens the title
further, down to an ellipsis, rather than going over (finding NF8)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import partial

import pytest

from services.notifications.data.batch_seeds import BATCH_TEMPLATES
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.batches import books
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.sms_text import MIN_KEPT, fitted, segments
from services.notifications.domain.templates import Template
from services.notifications.domain.wording import Titles
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


BATCH_SMS = [t for t in SMS if t.id in BATCH_TEMPLATES]
LIST_TITLES = {
    "en": ("The Long and Winding Road of Title {}", "Remarkable" * 4 + " {}", "Dune {}"),
    "ru": ("Долгая и извилистая дорога, книга {}", "Удивительная" * 4 + " {}", "Дюна {}"),
}


def _batch_sms(template: Template, titles: tuple[str, ...], due_date: str) -> str:
    listed = Titles(titles, 3)
    values = COMMON | SAMPLES[template.locale] | {"due_date": due_date, "book_titles": listed.words(template.locale),
                                                  "book_count_words": books(len(titles), template.locale)}  # fmt: skip
    shorter = {"book_titles": partial(listed.within, template.locale)}
    return fitted(lambda v: RENDERER.render(template, v).text.strip(), values, max_segments=MAX_SEGMENTS,
                  shorter=shorter)  # fmt: skip


def _named(text: str, locale: str) -> int:
    """Titles the SMS names whole or shortened inside quotes; the quotes must pair up."""
    if locale == "ru":
        assert text.count("«") == text.count("»"), text
        return text.count("«")
    assert text.count("“") == text.count("”") and text.count('"') % 2 == 0, text
    return text.count("“") + text.count('"') // 2


@pytest.mark.parametrize("template", BATCH_SMS, ids=lambda t: t.id)
def test_a_batch_sms_names_whole_titles_and_counts_the_rest_within_its_segments(template: Template) -> None:
    """Finding B2: the list was cut as one string, losing its closing quote and "and 7 more" (or leaving
    "«A» и…"); now titles drop whole into the count, and a lone first title is shortened inside its quotes."""
    locale, tail = template.locale, template.body.split("{{ book_titles }}")[-1]
    for count, shape, due in itertools.product((2, 3, 5, 20), LIST_TITLES[locale], ("", SAMPLES[locale]["due_date"])):
        titles = tuple(shape.format(i) for i in range(count))
        text = _batch_sms(template, titles, due)
        named = _named(text, locale)
        assert segments(text) <= MAX_SEGMENTS and 1 <= named <= 3 and text.endswith(tail), text
        assert not re.search(r"( и| and|,)(…|\.\.\.)", text), text
        if named < count:
            rest = count - named
            assert (f" и ещё {rest}{tail}" if locale == "ru" else f" and {rest} more{tail}") in text, text
        else:
            assert "…" not in text and "..." not in text, text


def test_the_reported_two_book_russian_sms_names_the_first_title_whole_and_counts_the_second() -> None:
    titles = ("The Long and Winding Road of Title 22 1", "The Long and Winding Road of Title 22 2")
    text = _batch_sms(BATCH_TEMPLATES["loan_issued_sms_ru"], titles, "6 января 2027 (ср), 02:59 MSK")  # noqa: RUF001
    assert text.endswith(": «The Long and Winding Road of Title 22 1» и ещё 1."), text
    assert segments(text) == 2


def test_a_lone_title_too_long_for_the_sms_is_shortened_inside_its_quotes() -> None:
    titles = ("A very long title of words " * 10, "Dune")
    text = _batch_sms(BATCH_TEMPLATES["loan_renewed_sms_en"], titles, SAMPLES["en"]["due_date"])
    assert re.search(r': "A very long title of words [^"]*\.\.\." and 1 more\.$', text), text
    assert segments(text) == MAX_SEGMENTS
