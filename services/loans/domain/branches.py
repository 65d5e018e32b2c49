"""What loans does with the library's branches (services/support/runtime/branches.py): the places a hold may be
picked up at and a desk may say it works at must be among them when the library lists them. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from services.support.runtime.branches import NAMED_IN_FULL
from services.support.runtime.branches import LibraryBranches as BranchList

__all__ = ["ANY_BRANCH", "NAMED_IN_FULL", "LibraryBranches"]


@dataclass(frozen=True, slots=True)
class LibraryBranches(BranchList):
    """The library's branches, with the checks of a hold's pickup branch and a desk's branch."""

    def ensure_pickup(self, pickup_branch: str, *, home_branch: str) -> str:
        """The hold's pickup branch, as kept (trimmed, in the list's spelling): the one asked for, else the
        patron's home branch ("" when neither: picked up where its copy waits); INVALID_ARGUMENT on
        `hold.pickup_branch` when it is not a branch here."""
        whose = "" if pickup_branch else "the account's home branch "
        return self.spelled(pickup_branch or home_branch, field="hold.pickup_branch", whose=whose)

    def ensure_desk(self, branch: str) -> str:
        """The desk's branch as kept (trimmed, in the list's spelling); INVALID_ARGUMENT on `branch` when a desk
        names a branch that is not here. A desk naming none ("") is taken to be the hold's pickup branch, as
        before branches were listed."""
        return self.spelled(branch, field="branch")


ANY_BRANCH = LibraryBranches()
"""A library that lists no branches: every code is taken as given."""
