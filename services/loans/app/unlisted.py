"""Holds picked up at a branch the library does not list (finding upgrade F2): placed before the administrator
listed the branches (ATHENAEUM_LIBRARY_BRANCHES), or before a branch was taken off the list. The queue passes
them over (no desk may receive a copy there, shelf.py) and a desk of the list receiving a copy already sent to
one puts it on its own hold shelf (receiving.py); this names them on every reconciliation pass, so staff see
them (the scheduler logs them, ReconcileCirculation answers them) and either list the branch or change the hold's
pickup branch to one that is (UpdateHold: it keeps its place)."""

from __future__ import annotations

from services.loans.app.ports import LoansUnitOfWork


async def name_unlisted_pickup_branches(discrepancies: list[str], *, uow: LoansUnitOfWork) -> None:
    """One line per pickup branch of active holds that is not one of the library's branches (none when the
    library lists none)."""
    if not uow.branches.codes:
        return
    async with uow.reading():
        counted = await uow.holds.active_pickup_branches()
    for branch, count in sorted(counted.items()):
        if not uow.branches.serves(branch):
            discrepancies.append(
                f"{count} active hold(s) are picked up at {branch.strip()!r}, not a branch of this library: no copy"
                f" is sent to them (list holds with pickup_branch={branch.strip()!r}; list the branch, or"
                " change their pickup branch to one of the library's branches: UpdateHold)"
            )
