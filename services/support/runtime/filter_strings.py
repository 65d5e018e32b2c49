"""The string literals of AIP-160 filters, shared by every List method that takes one: a value in double or
single quotes ("EAST", 'EAST'), with the usual backslash escapes. A value that only looks quoted (an
unterminated 'EAST, an unknown escape) is refused: read as a bare word it matched nothing, silently."""

from __future__ import annotations

import re

from services.support.runtime.errors import InvalidArgument

STRING = r'"(?:[^"\\]|\\.)*"|' + r"'(?:[^'\\]|\\.)*'"
"""A quoted value, escapes and all (a regular expression to embed in a tokenizer)."""
WORD_START = r"""[^\s"'"""
"""The start of a class of bare-word characters: a word never begins with a quote (it would be a string that
does not end), though it may hold one (O'Brien). Close it with the tokenizer's own separators and `]`."""
_SIMPLE = {"\\": "\\", '"': '"', "'": "'"}
_ESCAPE = re.compile(r"\\(?:u(?P<u>[0-9a-fA-F]{4})|U(?P<U>[0-9a-fA-F]{8})|(?P<simple>.))", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def unquote(literal: str, *, name: str = "filter") -> str:
    """The text a quoted value stands for: the quotes taken off and its escapes read (\\\\ \\" \\' \\uXXXX
    \\UXXXXXXXX). InvalidArgument for an unknown escape, a control character (no branch, author or code holds
    one), or a \\u that stands for no character."""

    def read(escape: re.Match[str]) -> str:
        code = escape["u"] or escape["U"]
        if code is None:
            if escape["simple"] not in _SIMPLE:
                raise InvalidArgument.field(name, "unknown escape in a quoted value (known: \\\\ \\\" \\' \\u)")
            return _SIMPLE[escape["simple"]]
        if int(code, 16) > 0x10FFFF or 0xD800 <= int(code, 16) <= 0xDFFF:
            raise InvalidArgument.field(name, "a \\u escape in a quoted value names no character")
        return chr(int(code, 16))

    text = _ESCAPE.sub(read, literal[1:-1])
    if _CONTROL.search(text):
        raise InvalidArgument.field(name, "a quoted value may not hold control characters")
    return text
