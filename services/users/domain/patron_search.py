# ruff: noqa: RUF001, RUF002 (Cyrillic on purpose: the letters folded and the names searched)
"""How staff find a patron by name at the desk: every word of the query, in any order, "е" for "ё". Pure.

Russian files and library cards write the surname first ("Сидоров Пётр"), most keyboards type "е" for "ё",
and the catalogue's search folds them already; a name searched as one substring found neither. Koha's patron
search matches each word against the name in the same way.
"""

from __future__ import annotations

_YO = str.maketrans("ёЁ", "еЕ")
YO_FROM, YO_TO = "ёЁ", "еЕ"
"""The fold as the repository's SQL and its trigram index write it (translate(display_name, 'ёЁ', 'еЕ'))."""


def fold(text: str) -> str:
    """`text` with "ё" as "е" (either case), as names are compared."""
    return text.translate(_YO)


def name_words(query: str) -> tuple[str, ...]:
    """The words of a query, folded: each must appear in the display name (case aside) for the name to match."""
    return tuple(fold(word) for word in query.split())


def name_matches(query: str, display_name: str) -> bool:
    """Whether every word of `query` appears in `display_name`, in any order, case and "ё" aside."""
    name = fold(display_name).casefold()
    words = name_words(query)
    return bool(words) and all(word.casefold() in name for word in words)


def may_be_card_or_email(query: str) -> bool:
    """Whether `query` could be a whole card number or email (one word), worth looking up exactly first."""
    return len(query.split()) == 1
