"""What no string a client sends may hold (pure: the boundary and domain rules share it)."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters but tab and line breaks: the C0 and C1 controls (a NUL would reach Postgres and fail
there; U+009B is the 8-bit CSI some terminals honour) and the bidi embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069), which turn around what follows them wherever a name or a value is shown.
The marks right-to-left text needs (U+200E, U+200F, U+061C) and U+2028/U+2029 (line breaks) are text."""
