"""The log's upkeep: partitions made ahead of time, expired activity dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from services.events.app.ports import EventsUnitOfWork
from services.events.domain.partitions import expired, months_ahead
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class Upkeep:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted: int = 0
    """Expired ACTIVITY events deleted from outside the monthly partitions."""


async def keep_partitions(
    *, uow: EventsUnitOfWork, clock: Clock, months_ahead_count: int, retention: timedelta
) -> Upkeep:
    """Create the partitions of this month and the next ones; drop ACTIVITY months past the retention, and
    delete ACTIVITY events past it that no month holds (backdated before the first month: never dropped
    with a month, they would be kept for ever)."""
    now = clock.now()
    async with uow:
        created = await uow.partitions.create(months_ahead(now, months_ahead_count))
        dropped = await uow.partitions.drop_activity(
            expired(await uow.partitions.months(), now=now, retention=retention)
        )
        deleted = await uow.partitions.delete_unpartitioned_activity(now - retention)
        await uow.commit()
    return Upkeep(created, dropped, deleted)
