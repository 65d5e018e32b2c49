"""What every way of making an account shares: checks before the expensive hashing, and a card number."""

from __future__ import annotations

from collections.abc import Callable

from services.support.runtime.errors import Conflict, InvalidArgument
from services.users.app.ports import UsersUnitOfWork
from services.users.domain.accounts import CardNumberTaken, User
from services.users.domain.profile import Profile
from services.users.domain.validation import password_violation

CARD_NUMBER_ATTEMPTS = 5


def check_new_account(profile: Profile, password: str, *, prefix: str, password_required: bool) -> None:
    """One InvalidArgument naming every bad field, before any expensive hashing."""
    violations = profile.violations(prefix=prefix)
    problem = password_violation(password, profile.email.strip().lower()) if password or password_required else None
    if problem is not None:
        violations.append(problem)
    if violations:
        raise InvalidArgument(violations)


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
