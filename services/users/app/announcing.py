"""A change confirmed only once the other services can know it (its events on the bus): until then the caller
is told the change is saved and to send it again, which confirms it once the bus is back."""

from __future__ import annotations

from services.support.runtime.errors import DependencyUnavailable
from services.users.app.ports import UsersUnitOfWork


async def confirm_announced(uow: UsersUnitOfWork, *, unconfirmed: str) -> None:
    """Returns once the unit of work's events are on the bus; raises DependencyUnavailable(`unconfirmed`: what
    is done already, what may lag until the bus is back, what to send again) when the wait gives up."""
    if not await uow.announced():
        raise DependencyUnavailable(unconfirmed)
