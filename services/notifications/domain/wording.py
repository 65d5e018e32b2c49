"""Facts of an event turned into the words a template shows, in the recipient's language and time zone:
dates as a person reads them ("Friday, 14 March 2025, 18:00" / "пятница, 14 марта 2025, 18:00"). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.notifications.domain.sms_text import shortened
from services.support.runtime.clock import zone_named
from services.support.runtime.text import one_line

LOCALES = ("en", "ru")
FALLBACK_LOCALE = "en"

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
}  # fmt: skip
_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),  # noqa: RUF001 (Cyrillic on purpose)
}
"""Russian sentences put a date after «до», «к», «в»…, each asking its own case of a weekday's name
(«до воскресенья», «в воскресенье»): the date leads there and the weekday follows, abbreviated, in brackets."""


def locale_of(preferred: str, default: str) -> str:
    """The first of the recipient's language, the library's, English that has templates ("ru-RU" -> "ru")."""
    for candidate in (preferred, default):
        language = candidate.split("-")[0].lower()
        if language in LOCALES:
            return language
    return FALLBACK_LOCALE


def zone_of(preferred: str, default: str) -> ZoneInfo:
    """The recipient's time zone, else the library's, else UTC (a zone this system does not know is skipped)."""
    for candidate in (preferred, default):
        if candidate and (zone := zone_named(candidate)) is not None:
            return zone
    return ZoneInfo("UTC")


def format_moment(moment: datetime, *, locale: str, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    weekday = _WEEKDAYS[locale][local.weekday()]
    month = _MONTHS[locale][local.month - 1]
    zone_name = local.tzname() or ""
    if locale == "ru":
        return f"{local.day} {month} {local.year} ({weekday}), {local:%H:%M} {zone_name}".rstrip()
    return f"{weekday}, {local.day} {month} {local.year}, {local:%H:%M} {zone_name}".rstrip()


def format_amount(amount: Decimal, *, locale: str) -> str:
    """An amount as the language writes it, with the cents it was given: 1,234.50 / 1 234,50 (a no-break
    space between thousands)."""
    english = f"{amount:,f}"
    if locale == "ru":
        return english.replace(",", "\u00a0").replace(".", ",")
    return english


_CURRENCY_SIGNS = {"ru": {"RUB": "₽", "USD": "$", "EUR": "€"}}
"""Where the language writes a sign after the amount rather than the ISO code (loans' `currency_code`)."""


def currency_word(code: str, *, locale: str) -> str:
    return _CURRENCY_SIGNS.get(locale, {}).get(code, code)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency, shown as one fact ("1 234,50 ₽", "1,234.50 RUB")."""

    amount: Decimal
    currency: str

    def words(self, locale: str) -> str:
        return f"{format_amount(self.amount, locale=locale)} {currency_word(self.currency, locale=locale)}".strip()


@dataclass(frozen=True, slots=True)
class Titles:
    """Book titles named in one sentence: the first `shown` of them, then how many more ("“A”, “B” and 3 more",
    "«A», «B» и ещё 3"): a digest of forty books stays a mail, and its SMS stays short."""

    titles: tuple[str, ...]
    shown: int = 5

    def words(self, locale: str) -> str:
        opening, closing, also, more = ("«", "»", " и ", " и ещё ") if locale == "ru" else ("“", "”", " and ", " and ")
        named = [f"{opening}{title}{closing}" for title in self.titles[: max(self.shown, 1)]]
        rest = len(self.titles) - len(named)
        if rest:
            return ", ".join(named) + more + (f"{rest}" if locale == "ru" else f"{rest} more")
        return also.join(filter(None, (", ".join(named[:-1]), named[-1]))) if named else ""

    def within(self, locale: str, limit: int) -> str:
        """The words in at most `limit` characters where they can be, still a sentence: fewer titles named (the
        rest counted in "and 7 more"), then the first alone, shortened inside its quotes (down to "“…” and 9
        more"). Cutting the words as a whole lost the closing quote and the count of the rest (finding B2)."""
        if not self.titles:
            return ""
        for shown in range(min(self.shown, len(self.titles)), 0, -1):
            if len(text := replace(self, shown=shown).words(locale)) <= limit:
                return text
        first, rest = self.titles[0], self.titles[1:]
        room = limit - len(replace(self, titles=("", *rest), shown=1).words(locale)) - 1  # 1: the ellipsis
        return replace(self, titles=(shortened(first, max(room, 0)), *rest), shown=1).words(locale)


Fact = str | int | Decimal | datetime | Money | Titles


def words(facts: Mapping[str, Fact], *, locale: str, zone: ZoneInfo) -> dict[str, str]:
    """Every fact as text: moments in the recipient's zone and language, amounts and currencies as the
    language writes them."""
    return {name: _word(name, value, locale, zone) for name, value in facts.items()}


def _word(name: str, value: Fact, locale: str, zone: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return format_moment(value, locale=locale, zone=zone)
    if isinstance(value, Money | Titles):
        return value.words(locale)
    if isinstance(value, Decimal):
        return format_amount(value, locale=locale)
    if name == "currency" and isinstance(value, str):
        return currency_word(value, locale=locale)
    return str(value)


ONE_LINE = frozenset(
    {"display_name", "library_name", "book_title", "book_titles", "author", "authors", "branch", "barcode"}
)
"""Values that are one line by nature (a name, a title): a line break or control character one was stored with,
before the users and catalog services refused them, is shown as a space. A staff message's body keeps its lines."""


def on_one_line(values: Mapping[str, str]) -> dict[str, str]:
    """The values, those of ONE_LINE with every run of control characters made a single space."""
    return {name: one_line(value) if name in ONE_LINE else value for name, value in values.items()}
