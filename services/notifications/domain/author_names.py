# ruff: noqa: RUF001, RUF002, RUF003  (Cyrillic letters on purpose: "ё" is folded to "е", "и" joins names)
"""How a followed name is matched against a book's authors. Catalogs write one person many ways ("Булгаков,
Михаил", "Булгаков, Михаил Афанасьевич", "Булгаков М. А."), and readers type fewer words than the heading
("Булгаков"): a follow matches an author when each of its words is one of the author's words, an initial
("М.", "M") standing for any word with that first letter either way. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Between two people in one author string ("Donovan & Kernighan", "Ильф и Петров", "A; B"); a lone capital
# "И" is an initial (Иван), so only the lower-case conjunctions split.
_BETWEEN_NAMES = re.compile(r"[&;]|\s(?:and|и)\s")


def words_of(name: str) -> list[str]:
    """The name's words, case-folded, "ё" as "е", punctuation gone (NFKC first: fullwidth letters fold)."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    return "".join(char if char.isalnum() else " " for char in folded).split()


def is_initial(word: str) -> bool:
    """A lone letter ("М." once its dot is gone) stands for a first name or patronymic."""
    return len(word) == 1 and word.isalpha()


@dataclass(frozen=True, slots=True)
class PersonName:
    """One person's name as a set of whole words and of initials."""

    words: frozenset[str]
    initials: frozenset[str]

    @classmethod
    def of(cls, name: str) -> PersonName:
        found = words_of(name)
        return cls(frozenset(w for w in found if not is_initial(w)), frozenset(w for w in found if is_initial(w)))

    def __bool__(self) -> bool:
        return bool(self.words or self.initials)


def people_in(author: str) -> list[PersonName]:
    """The people an author string names: "Donovan & Kernighan" is two."""
    return [person for part in _BETWEEN_NAMES.split(author) if (person := PersonName.of(part))]


def matches(follow: PersonName, author: PersonName) -> bool:
    """Each of the follow's words is the author's (or the author has its initial), and each of the follow's
    initials begins one of the author's words or initials. At least one whole word must be shared (the surname,
    as a rule): it is what the store looks follows up by, and initials alone name nobody."""
    if follow.words.isdisjoint(author.words):
        return False
    for word in follow.words - author.words:
        if word[0] not in author.initials:
            return False
    return all(any(w.startswith(i) for w in author.words | author.initials) for i in follow.initials)
