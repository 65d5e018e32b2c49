"""The library's branches as its administrator lists them (ATHENAEUM_LIBRARY_BRANCHES), for every service that
takes a branch code typed by staff: loans (a hold's pickup branch, a desk's branch) and the catalog (a copy's own
branch, where it is sent home to). A typo ("WST" for a library of MAIN and EAST) would send a copy to a branch no
desk can receive it at; a listed library refuses the code instead. An empty list is a library that listed none:
any code, as before. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from services.support.runtime.errors import InvalidArgument

NAMED_IN_FULL = 12
"""A refusal names the branches when there are at most this many (a reader or a desk can pick one)."""


def same_branch(a: str, b: str) -> bool:
    """Branch codes as staff type them: spaces around and letter case are no part of them."""
    return a.strip().casefold() == b.strip().casefold()


@dataclass(frozen=True, slots=True)
class LibraryBranches:
    """The branch codes of the library, in the administrator's spelling; () when none are listed."""

    codes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, listed: str) -> Self:
        """From the setting's comma-separated codes ("MAIN, EAST"); ValueError on an empty or repeated code."""
        codes = tuple(code.strip() for code in listed.split(",")) if listed.strip() else ()
        if any(not code for code in codes):
            raise ValueError("a branch code is empty: give codes separated by commas, e.g. MAIN,EAST")
        for index, code in enumerate(codes):
            if any(same_branch(code, earlier) for earlier in codes[:index]):
                raise ValueError(f"{code} is listed twice (codes are compared whatever their letter case)")
        return cls(codes)

    def known(self, code: str) -> bool:
        """Whether `code` is one of the library's branches, whatever its letter case (any code when none are
        listed)."""
        return not self.codes or any(same_branch(code, listed) for listed in self.codes)

    def spelled(self, code: str, *, field: str, whose: str = "") -> str:
        """The code as it is kept: trimmed, in the list's spelling when the library lists its branches ("" stays
        "": no branch named); INVALID_ARGUMENT on `field` when it is not one of them."""
        trimmed = code.strip()
        if not trimmed or not self.codes:
            return trimmed
        for listed in self.codes:
            if same_branch(trimmed, listed):
                return listed
        raise InvalidArgument.field(field, f"{whose}{trimmed!r} is not {self._listing()}")

    def _listing(self) -> str:
        if len(self.codes) <= NAMED_IN_FULL:
            return f"a branch of this library: give one of {', '.join(self.codes)}"
        return f"one of this library's {len(self.codes)} branches"


ANY_BRANCH = LibraryBranches()
"""A library that lists no branches: every code is taken as given (trimmed)."""
