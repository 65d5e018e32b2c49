"""A notice worded from its kind's template in a language: the stored template, else the built-in one; an SMS
made plain and kept within its segments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from services.notifications.app.ports import RenderFailed, TemplateRenderer
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content
from services.notifications.domain.sms_text import Shortener, fitted, plain
from services.notifications.domain.templates import MAX_SMS_LENGTH, Template, template_id
from services.notifications.domain.wording import FALLBACK_LOCALE


class BuiltinTemplates(Protocol):
    def builtin(self, template_id: str) -> Template | None:
        """The wording shipped with the service, used when a stored one cannot render."""
        ...


def word(
    kind: Kind,
    channel: Channel,
    locale: str,
    params: Mapping[str, str],
    *,
    templates: Mapping[str, Template],
    store: BuiltinTemplates,
    renderer: TemplateRenderer,
    fit: bool = True,
    max_segments: int = 2,
    shorter: Mapping[str, Shortener] | None = None,
) -> Content:
    """Render the kind's template for the language (else English); a stored template that fails to render, or
    renders an SMS longer than a provider takes, gives way to the built-in one, so sending goes on. An SMS
    still too long (its values are) is cut to fit, with an ellipsis, unless `fit` is False. An SMS is made
    plain where that keeps it in GSM-7, and (when `fit`) its long values are shortened to keep it within
    `max_segments` (domain/sms_text.py), those in `shorter` each its own way (a list of titles)."""
    chosen = templates.get(template_id(kind, channel, locale)) or templates.get(
        template_id(kind, channel, FALLBACK_LOCALE)
    )
    too_long: Content | None = None
    for template in (chosen, store.builtin(template_id(kind, channel, chosen.locale if chosen else FALLBACK_LOCALE))):
        if template is None:
            continue
        try:
            rendered = renderer.render(template, params)
        except RenderFailed:
            continue
        text = rendered.text
        if channel == Channel.SMS:
            text = _sms_text(template, params, rendered.text, renderer, max_segments if fit else 0, shorter)
        words = Content(rendered.subject, text, rendered.html, template.id, template.version, template.locale)
        if channel == Channel.SMS and len(words.text) > MAX_SMS_LENGTH:
            too_long = words
            continue
        return words
    if too_long is not None:
        return replace(too_long, text=too_long.text[: MAX_SMS_LENGTH - 1] + "…") if fit else too_long
    raise RenderFailed(f"no template renders {template_id(kind, channel, locale)}")


def _sms_text(
    template: Template,
    params: Mapping[str, str],
    text: str,
    renderer: TemplateRenderer,
    max_segments: int,
    shorter: Mapping[str, Shortener] | None = None,
) -> str:
    """The SMS as sent: one line of plain text (no trailing break: it is a character paid for), its values
    shortened to fit `max_segments` (none: 0)."""
    if max_segments <= 0:  # as written (a staff message): plain only when its "..." do not take it past a provider
        made_plain = plain(text.strip())
        return made_plain if len(made_plain) <= MAX_SMS_LENGTH else text.strip()
    try:
        return fitted(
            lambda values: renderer.render(template, values).text.strip(),
            params,
            max_segments=max_segments,
            shorter=shorter,
        )
    except RenderFailed:  # a template that chokes on a shortened value: the values as they are
        return plain(text.strip())
