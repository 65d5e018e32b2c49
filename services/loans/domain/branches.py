"""The library's branches as its administrator lists them (ATHENAEUM_LIBRARY_BRANCHES): the places a hold may be
picked up at and a desk may say it works at. Branch codes are typed by staff (on copies, accounts, desks), so a
typo ("WEST" for a library of MAIN and EAST) would send a copy to a branch nobody can receive it at; a listed
library refuses the code instead. An empty list is a library that listed none: any code, as before. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from services.loans.domain.holds import same_branch
from services.support.runtime.errors import InvalidArgument

NAMED_IN_FULL = 12
"""A refusal names the branches when there are at most this many (a reader or a desk can pick one)."""


@dataclass(frozen=True, slots=True)
class LibraryBranches:
    """The branch codes of the library, in the administrator's spelling; () when none are listed."""

    codes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, listed: str) -> LibraryBranches:
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

    def ensure_pickup(self, pickup_branch: str, *, home_branch: str) -> str:
        """The hold's pickup branch: the one asked for, else the patron's home branch ("" when neither: picked
        up where its copy waits); INVALID_ARGUMENT on `hold.pickup_branch` when it is not a branch here."""
        pickup = pickup_branch or home_branch
        if pickup.strip() and not self.known(pickup):
            whose = "" if pickup_branch else "the account's home branch "
            raise InvalidArgument.field("hold.pickup_branch", f"{whose}{pickup!r} is not {self._listing()}")
        return pickup

    def ensure_desk(self, branch: str) -> None:
        """INVALID_ARGUMENT on `branch` when a desk names a branch that is not here; a desk naming none is
        taken to be the hold's pickup branch, as before branches were listed."""
        if branch.strip() and not self.known(branch):
            raise InvalidArgument.field("branch", f"{branch!r} is not {self._listing()}")

    def _listing(self) -> str:
        if len(self.codes) <= NAMED_IN_FULL:
            return f"a branch of this library: give one of {', '.join(self.codes)}"
        return f"one of this library's {len(self.codes)} branches"


ANY_BRANCH = LibraryBranches()
"""A library that lists no branches: every code is taken as given."""
