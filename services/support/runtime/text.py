"""What no string a client sends may hold (pure: the boundary and domain rules share it)."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters but tab and line breaks: the C0 and C1 controls (a NUL would reach Postgres and fail
there; U+009B is the 8-bit CSI some terminals honour) and the bidi embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069), which turn around what follows them wherever a name or a value is shown.
The marks right-to-left text needs (U+200E, U+200F, U+061C) and U+2028/U+2029 (line breaks) are text."""

NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What a one-line value (a name, a title) may not hold beside CONTROL: every C0 control, tab and line breaks
included, and the Unicode line and paragraph separators. A break in a name printed it as several lines in every
letter that greets its owner ("Dear Bob / Bcc: victim@…"), and in every list that shows it."""
ONE_LINE_MESSAGE = "must be one line, without control characters (line breaks, tabs and the like)"


def is_one_line(value: str) -> bool:
    return NOT_ONE_LINE.search(value) is None


def one_line(value: str) -> str:
    """The value with each run of control characters and the spaces around them made a single space: how a
    value stored before it was refused is shown where it must be one line."""
    return re.sub(r"\s*(?:[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]\s*)+", " ", value).strip()
