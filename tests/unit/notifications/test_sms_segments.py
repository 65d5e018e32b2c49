# ruff: noqa: RUF001  (typographic quotes are what is tested)
"""An SMS is paid per segment: an English notice stays in GSM-7 (160 characters a segment, not UCS-2's 70), and a
long title is shortened so that a notice takes at most the segments the library set."""

from __future__ import annotations

import pytest

from services.notifications.app.words import word
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.sms_text import is_gsm7, plain, segments

from .fake_notification_repositories import FakeTemplates
from .fakes import recipient
from .test_templates_and_messages import _message, _send

SAMPLES = {
    "library_name": "Athenaeum Library",
    "display_name": "Ada Lovelace",
    "due_date": "Monday, 21 December 2026",
    "previous_due_date": "Monday, 7 December 2026",
    "pickup_deadline": "Monday, 21 December 2026, 23:59 UTC",
    "barcode": "31234000012345",
    "branch": "MAIN",
    "overdue_days": "12",
    "notice_number": "2",
    "days_left": "3",
    "can_renew": "yes",
    "fine_amount": "2.50 euros",
    "passed_on": "yes",
    "reason": "the copy was found damaged at the desk",
    "why": "may_not_borrow",
    "was_ready": "yes",
    "amount": "12.50",
    "currency": "euros",
    "description": "Overdue fine",
    "author": "Frank Herbert",
    "authors": "Frank Herbert, Brian Herbert",
    "book_id": "7d5e3c1a-3b8f-4c0e-9a51-0c6f2b1d9e44",
    "web_url": "https://library.example.org",
    "book_count": "",
    "book_titles": "",
}
LONG_TITLE = "The Remarkable and Entirely Unabridged Chronicles of " + "the Desert Planet and its Many Houses, " * 12
SMS_KINDS = sorted(kind for kind in Kind if Channel.SMS in KINDS[kind].channels and kind != Kind.MESSAGE)
WITH_A_TITLE = [kind for kind in SMS_KINDS if "book_title" in BUILTIN[f"{kind}_sms_en"].body]


def _sms(kind: Kind, title: str, *, locale: str = "en", max_segments: int = 2) -> str:
    params = {name: SAMPLES.get(name, "") for name in KINDS[kind].variables} | {"book_title": title}
    templates = dict(BUILTIN)
    content = word(
        kind, Channel.SMS, locale, params,
        templates=templates, store=FakeTemplates(templates), renderer=JinjaRenderer(), max_segments=max_segments,
    )  # fmt: skip
    return content.text


def test_the_hold_ready_sms_of_the_report_is_one_gsm_segment() -> None:
    text = _sms(Kind.HOLD_READY, "Dune")
    assert text == (
        'Athenaeum Library: "Dune" is ready for pickup at the MAIN branch until Monday, 21 December 2026, 23:59 UTC.'
    )
    assert is_gsm7(text) and segments(text) == 1


@pytest.mark.parametrize("kind", WITH_A_TITLE)
def test_every_english_notice_with_a_long_title_stays_in_gsm7_within_two_segments(kind: Kind) -> None:
    text = _sms(kind, LONG_TITLE)
    assert is_gsm7(text), text
    assert segments(text) <= 2, (len(text), text)
    assert "The Remarkable and Entirely Unabridged" in text and '..."' in text  # the start, then an ellipsis


@pytest.mark.parametrize("kind", SMS_KINDS)
def test_every_english_notice_is_gsm7_in_one_or_two_segments(kind: Kind) -> None:
    text = _sms(kind, "Dune")
    assert is_gsm7(text) and segments(text) <= 2, text


@pytest.mark.parametrize("kind", WITH_A_TITLE)
def test_a_short_title_is_never_shortened(kind: Kind) -> None:
    assert '"Dune"' in _sms(kind, "Dune")


def test_the_number_of_segments_is_the_librarys_to_set() -> None:
    assert segments(_sms(Kind.HOLD_READY, LONG_TITLE, max_segments=1)) == 1
    assert segments(_sms(Kind.HOLD_READY, LONG_TITLE, max_segments=4)) == 4


def test_a_long_russian_title_is_shortened_too_and_stays_ucs2() -> None:
    text = _sms(Kind.LOAN_ISSUED, "Война и мир, " * 40, locale="ru")
    assert not is_gsm7(text) and segments(text) <= 2
    assert "«Война и мир" in text and "…»" in text


def test_a_title_with_typographic_quotes_and_dashes_is_made_plain() -> None:
    text = _sms(Kind.DUE_SOON, "“Foundation” — Isaac Asimov’s first…")
    assert '"Foundation" - Isaac Asimov\'s first..."' in text and is_gsm7(text)


def test_a_text_that_cannot_be_gsm7_keeps_its_typography() -> None:
    assert plain("«Война» — “мир”") == "«Война» — “мир”"
    assert plain("“Dune” — Herbert…") == '"Dune" - Herbert...'


def test_segments_count_as_a_provider_bills() -> None:
    assert [segments("a" * n) for n in (160, 161, 306, 307)] == [1, 2, 2, 3]
    assert [segments("я" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]
    assert segments("{" * 80) == 1 and segments("{" * 81) == 2  # the escape: two septets each


async def test_a_staff_sms_is_made_plain_but_never_shortened(db, clock, renderer) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    body = "“Closed” on Monday — sorry… " + "x" * 400
    sent = await _send(db, clock, renderer, _message(ada, channel=Channel.SMS, body=body))
    assert sent.content.text == 'Test Library: "Closed" on Monday - sorry... ' + "x" * 400


async def test_a_staff_sms_that_plain_quotes_would_take_past_a_provider_keeps_its_own(db, clock, renderer) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    sent = await _send(db, clock, renderer, _message(ada, channel=Channel.SMS, body="…" * 1_000))
    assert sent.content.text.endswith("…" * 1_000)
