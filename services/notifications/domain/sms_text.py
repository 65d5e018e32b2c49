# ruff: noqa: RUF001  (typographic quotes and dashes are what this module replaces)
"""What an SMS costs and how it is kept cheap. Pure.

A provider bills an SMS per segment: 160 characters of the GSM 03.38 alphabet (153 each when it takes several),
but only 70 (67) as soon as one character is outside it (UCS-2). English wording with typographic quotes or
dashes (“Dune” — …) is UCS-2 for no reason: they are made plain when that keeps the whole text in GSM-7. A
notice over its segments has its long values (a book's title) shortened, with an ellipsis, until it fits."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (one septet each)."""
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
"""Reached through the escape: two septets each."""
_PLAIN = str.maketrans(
    {
        "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'", "′": "'", "″": '"',
        "–": "-", "—": "-", "‒": "-", "−": "-", "…": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    }
)  # fmt: skip
SINGLE = {True: 160, False: 70}
"""Characters in a text of one segment, by whether it is GSM-7."""
PART = {True: 153, False: 67}
"""Characters in each segment of a longer one (the rest carries the concatenation header)."""
SHORTENED = ("book_title", "book_titles", "authors", "author", "reason")
"""Values an SMS may shorten, in this order: what a reader recognises by its start."""
MIN_KEPT = 24
"""A shortened value keeps at least this many characters (a title cut to nothing names no book), unless the
notice cannot fit otherwise: then the values go down to an ellipsis, as a notice over its segments is billed
for every one of them."""


def is_gsm7(text: str) -> bool:
    return all(char in GSM7 or char in GSM7_EXTENDED for char in text)


def plain(text: str) -> str:
    """The text with typographic quotes, dashes and ellipses made ASCII, when that makes all of it GSM-7;
    otherwise as it is (a Russian text is UCS-2 anyway, and keeps its «ёлочки»)."""
    made_plain = text.translate(_PLAIN)
    return made_plain if is_gsm7(made_plain) else text


def units(text: str) -> int:
    """What the text takes: septets in GSM-7, UTF-16 code units in UCS-2."""
    if is_gsm7(text):
        return len(text) + sum(char in GSM7_EXTENDED for char in text)
    return len(text) + sum(ord(char) > 0xFFFF for char in text)


def segments(text: str) -> int:
    gsm, used = is_gsm7(text), units(text)
    return 1 if used <= SINGLE[gsm] else math.ceil(used / PART[gsm])


def capacity(text: str, parts: int) -> int:
    """The units `parts` segments hold, in the text's alphabet."""
    gsm = is_gsm7(text)
    return SINGLE[gsm] if parts == 1 else PART[gsm] * parts


def shortened(value: str, keep: int) -> str:
    """The first `keep` characters of the value (at a word's end when one is near), and an ellipsis."""
    cut = value[:keep]
    space = cut.rfind(" ")
    if space >= keep * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-–—") + "…"


Shortener = Callable[[int], str]
"""A value's own way to keep within n characters, where cutting its text would break it: a list of titles
drops whole titles into "and 7 more" rather than lose its closing quote and its count."""


def fitted(
    render: Callable[[Mapping[str, str]], str],
    values: Mapping[str, str],
    *,
    max_segments: int,
    shorter: Mapping[str, Shortener] | None = None,
) -> str:
    """The SMS `render` makes of the values, plain (see `plain`), with its long values shortened until it
    takes at most `max_segments`: first each down to MIN_KEPT characters, then, when the rest of the notice
    leaves no room for that, further (down to a bare ellipsis) if that makes it fit; as short as MIN_KEPT
    allows when nothing does (an address or a date too long: the title is not given up for nothing). A value
    named in `shorter` is shortened by its own Shortener, the rest with `shortened`."""
    kept, ways = dict(values), dict(shorter or {})
    text = _shortened(render, kept, plain(render(kept)), max_segments, floor=MIN_KEPT, ways=ways)
    if _over(text, max_segments) <= 0:
        return text
    shortest = _shortened(render, dict(kept), text, max_segments, floor=0, ways=ways)
    return shortest if _over(shortest, max_segments) <= 0 else text


def _over(text: str, max_segments: int) -> int:
    return units(text) - capacity(text, max_segments)


def _shortened(
    render: Callable[[Mapping[str, str]], str],
    current: dict[str, str],
    text: str,
    max_segments: int,
    *,
    floor: int,
    ways: Mapping[str, Shortener],
) -> str:
    """The text with `current`'s SHORTENED values cut (in place), in order, none below `floor` characters."""
    for name in SHORTENED:
        for _ in range(3):  # a cut may change the alphabet (a title with the only non-GSM letter): count again
            over = _over(text, max_segments)
            value = current.get(name, "")
            # 3: the ellipsis as "..." in GSM-7; a value of its own way may fit whole (a title fewer): the next
            # round takes off what its ellipsis turned out to need
            keep = max(len(value) - over - (0 if name in ways else 3), floor)
            if over <= 0 or keep >= len(value) or value == "…":
                break
            cut = ways[name](keep) if name in ways else shortened(value, keep)
            if cut == value:  # as short as its own way goes
                break
            current[name] = cut
            text = plain(render(current))
    return text
