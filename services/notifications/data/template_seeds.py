"""The templates the service ships with: stored at first start (staff edit them afterwards), and used
whenever a stored one cannot render. Each kind has an email (subject, text and HTML, made from the same
paragraphs) and an SMS, in English and Russian."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from services.notifications.data.template_words import GREETING, SIGN_OFF, WORDS
from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.templates import Template, template_id

SEEDED_AT = datetime(2025, 1, 1, tzinfo=UTC)

_HTML = """<!doctype html>
<html lang="{locale}"><body style="font-family: Georgia, serif; color: #222; max-width: 36em">
<p>{greeting}</p>
{paragraphs}
<p style="color: #666">{sign_off}</p>
</body></html>"""


_CONDITIONAL = re.compile(r"(\{% if [^%]+%\})(.*)(\{% endif %\})", re.DOTALL)
"""A paragraph shown only sometimes: its separator goes inside its condition (an empty one left a gap of blank
lines, or an empty <p>, in every mail without it)."""


def _joined(paragraphs: list[str], *, before: str, wrap: str) -> str:
    """The paragraphs, each as `wrap` makes it and preceded by `before`, a conditional one only when shown."""
    parts = []
    for paragraph in paragraphs:
        shown_sometimes = _CONDITIONAL.fullmatch(paragraph)
        if shown_sometimes:
            opening, body, closing = shown_sometimes.groups()
            parts.append(f"{opening}{before}{wrap.format(body)}{closing}")
        else:
            parts.append(before + wrap.format(paragraph))
    return "".join(parts)


def _email(kind: Kind, locale: str) -> Template:
    subject, paragraphs, _ = WORDS[kind][locale]
    text = GREETING[locale] + _joined(paragraphs, before="\n\n", wrap="{}") + "\n\n" + SIGN_OFF[locale]
    html = _HTML.format(
        locale=locale,
        greeting=GREETING[locale],
        paragraphs=_joined(paragraphs, before="\n", wrap="<p>{}</p>").removeprefix("\n"),
        sign_off=SIGN_OFF[locale],
    )
    return Template(kind, Channel.EMAIL, locale, subject, text, html, version=1, updated_at=SEEDED_AT)


def _sms(kind: Kind, locale: str) -> Template:
    return Template(kind, Channel.SMS, locale, "", WORDS[kind][locale][2], "", version=1, updated_at=SEEDED_AT)


BUILTIN: dict[str, Template] = {
    template_id(kind, channel, locale): (_email if channel == Channel.EMAIL else _sms)(kind, locale)
    for kind in Kind
    for locale in ("en", "ru")
    for channel in KINDS[kind].channels
}
