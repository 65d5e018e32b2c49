# ruff: noqa: RUF001  (Russian wording is not a homoglyph attack)
"""The built-in Russian subjects and SMS never make the title the grammatical subject (its gender and number
are unknown: «Идиот» продлена, «Мёртвые души» возвращена); the hold notices promise nothing about the next
reader (nobody may be waiting)."""

from __future__ import annotations

import re

import pytest

from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.trial_render import inspected_in_process
from services.notifications.domain.kinds import KINDS, Channel, Kind

RENDERER = JinjaRenderer(inspection=inspected_in_process)
TITLES = ("Идиот", "Мёртвые души")
TITLE_AS_SUBJECT = re.compile(r"(^|:\s)«[^»]+»\s+[а-яё]")
"""A clause that opens with the title and goes on with a word (a verb or participle that must agree with it)."""


def _rendered(kind: Kind, channel: Channel, title: str) -> str:
    template = BUILTIN[f"{kind}_{channel}_ru"]
    params = {name: "1" for name in KINDS[kind].variables} | {"book_title": title, "library_name": "Библиотека"}
    rendered = RENDERER.render(template, params)
    return rendered.subject if channel == Channel.EMAIL else rendered.text


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("kind", [kind for kind in Kind if "book_title" in KINDS[kind].params])
def test_no_russian_subject_or_sms_makes_the_title_agree_with_a_participle(kind, channel, title) -> None:
    if channel not in KINDS[kind].channels:
        pytest.skip("the kind does not go out on this channel")
    words = _rendered(kind, channel, title)
    assert not TITLE_AS_SUBJECT.search(words), words


def test_the_renewal_and_overdue_sms_read_as_russian() -> None:
    assert _rendered(Kind.LOAN_RENEWED, Channel.EMAIL, "Мёртвые души") == "Продлён срок возврата: «Мёртвые души», до 1"
    assert _rendered(Kind.OVERDUE, Channel.EMAIL, "Идиот") == "Просрочен возврат: «Идиот»"
    assert "возврат «Идиот» просрочен на 1 дн." in _rendered(Kind.OVERDUE, Channel.SMS, "Идиот")


@pytest.mark.parametrize("kind", [Kind.HOLD_READY, Kind.HOLD_EXPIRING])
def test_hold_notices_do_not_promise_the_copy_to_the_next_reader(kind) -> None:
    """Nobody may be waiting: an expired hold's copy then goes back on the shelf."""
    for template in (t for t in BUILTIN.values() if t.kind == kind):
        text = " ".join((template.subject, template.body, template.html)).lower()
        assert "next reader" not in text and "следующ" not in text, template.id


@pytest.mark.parametrize(
    ("passed_on", "en", "ru"),
    [
        ("yes", "went to the next reader", "передан следующему читателю"),
        ("no", "went back on the shelf", "вернулся на полку"),
        ("", "no longer set aside for you", "больше не отложен для вас"),
    ],
)
def test_an_expired_hold_says_where_the_copy_went_only_when_it_is_known(passed_on, en, ru) -> None:
    for locale, said in (("en", en), ("ru", ru)):
        template = BUILTIN[f"hold_expired_email_{locale}"]
        params = {name: "" for name in KINDS[Kind.HOLD_EXPIRED].variables} | {"passed_on": passed_on}
        rendered = RENDERER.render(template, params)
        assert said in rendered.text and said in rendered.html
        assert ("next reader" in rendered.text or "следующ" in rendered.text) == (passed_on == "yes")
