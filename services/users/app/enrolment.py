"""What every way of making an account shares: checks before the expensive hashing, and a card number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.errors import Conflict, InvalidArgument
from services.users.app.ports import UsersUnitOfWork
from services.users.domain.accounts import CardNumberTaken, User
from services.users.domain.profile import Profile
from services.users.domain.validation import password_violation

CARD_NUMBER_ATTEMPTS = 5


def check_new_account(
    profile: Profile, password: str, *, prefix: str, password_required: bool, branches: LibraryBranches = ANY_BRANCH
) -> None:
    """One InvalidArgument naming every bad field (a home branch not among the library's `branches` included),
    before any expensive hashing."""
    violations = profile.violations(prefix=prefix)
    try:
        branches.spelled(profile.home_branch, field=f"{prefix}home_branch")
    except InvalidArgument as error:
        violations.extend(error.violations)
    problem = password_violation(password, profile.email.strip().lower()) if password or password_required else None
    if problem is not None:
        violations.append(problem)
    if violations:
        raise InvalidArgument(violations)


def at_home_branch(profile: Profile, branches: LibraryBranches, *, field: str = "user.home_branch") -> Profile:
    """The profile with its home branch trimmed and in the list's spelling; INVALID_ARGUMENT on `field` when the
    library lists its branches and this is none of them. A librarian at a typo branch had every desk return and
    receipt refused by loans, and a reader's holds defaulted to a pickup branch no desk could receive at."""
    return replace(profile, home_branch=branches.spelled(profile.home_branch, field=field))


async def add_new_user(uow: UsersUnitOfWork, make: Callable[[], User]) -> User:
    """Insert a freshly made user, drawing a new card number on the (rare) collision."""
    for _ in range(CARD_NUMBER_ATTEMPTS):
        user = make()
        try:
            await uow.users.add(user)
        except CardNumberTaken:
            continue
        return user
    raise Conflict("could not allocate a library card number; retry", reason="CARD_NUMBER_EXHAUSTED")
