"""The log's upkeep: partitions made ahead of time, expired activity dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from services.events.app.ports import EventsUnitOfWork
from services.events.domain.partitions import Month, expired, months_ahead
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class Upkeep:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted: int = 0
    """Expired ACTIVITY events deleted: from outside the monthly partitions, and from the oldest month kept."""


async def keep_partitions(
    *, uow: EventsUnitOfWork, clock: Clock, months_ahead_count: int, retention: timedelta
) -> Upkeep:
    """Create the partitions of this month and the next ones; drop ACTIVITY months past the retention, and
    delete ACTIVITY events past it that no month holds (backdated before the first month: never dropped
    with a month, they would be kept for ever) or that the oldest month kept holds (dropped only once the
    whole month is past the window, they would be kept up to a month longer than it says)."""
    now, cutoff = clock.now(), clock.now() - retention
    async with uow:
        created = await uow.partitions.create(months_ahead(now, months_ahead_count))
        months = await uow.partitions.months()
        dropped = await uow.partitions.drop_activity(expired(months, now=now, retention=retention))
        deleted = await uow.partitions.delete_unpartitioned_activity(cutoff)
        if Month.of(cutoff) in months:
            deleted += await uow.partitions.delete_expired_activity(Month.of(cutoff), cutoff)
        await uow.commit()
    return Upkeep(created, dropped, deleted)
