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

    def serves(self, pickup_branch: str) -> bool:
        """Whether a copy may be sent to a hold picked up at `pickup_branch`: one of the library's branches, or
        none named (picked up where its copy waits). A hold placed before the library listed its branches may
        name one that is not (finding upgrade F2): no desk may receive a copy there, so the queue passes it over."""
        return not pickup_branch.strip() or self.known(pickup_branch)

    def receives_for(self, pickup_branch: str, *, desk: str) -> bool:
        """Whether a desk of `desk`, one of the library's branches, receives for a hold picked up at
        `pickup_branch` that is not: the copy sent there before (or while) the branches were listed is in the
        desk's hands, and no desk may ever receive it where it was sent."""
        return bool(desk.strip()) and self.known(desk) and not self.serves(pickup_branch)


ANY_BRANCH = LibraryBranches()
"""A library that lists no branches: every code is taken as given."""
