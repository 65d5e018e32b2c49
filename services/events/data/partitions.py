"""Monthly partitions: made ahead of time, ACTIVITY ones dropped whole when they expire (and expired ACTIVITY
outside every month, in the default partition, deleted)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.domain.model import Category
from services.events.domain.partitions import Month, parse_partition

log = logging.getLogger("athenaeum.events.partitions")

_CHILDREN = sa.text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
)


# Rows only of a month before the first partition (or of one upkeep failed to make in time): few.
_DELETE_UNPARTITIONED = sa.text("DELETE FROM events_activity_default WHERE occur_time < :before")


class SqlPartitionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _children(self, category: Category) -> list[str]:
        parent = f"events_{category.name.lower()}"
        return list((await self.session.execute(_CHILDREN, {"parent": parent})).scalars())

    async def months(self) -> list[Month]:
        names = await self._children(Category.ACTIVITY)
        return sorted(month for name in names if (month := parse_partition(name, Category.ACTIVITY)) is not None)

    async def create(self, months: Sequence[Month]) -> list[str]:
        created = []
        for category in Category:
            existing = set(await self._children(category))
            for month in months:
                name = month.partition(category)
                if name in existing:
                    continue
                # Names and bounds come from Month, never from a request: safe to put in DDL.
                await self.session.execute(
                    sa.text(
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events_{category.name.lower()} "
                        f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"
                    )
                )
                created.append(name)
        if created:
            log.info("created partitions %s", ", ".join(created))
        return created

    async def drop_activity(self, months: Sequence[Month]) -> list[str]:
        dropped = [month.partition(Category.ACTIVITY) for month in months]
        for name in dropped:
            await self.session.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        if dropped:
            log.info("dropped expired partitions %s", ", ".join(dropped))
        return dropped

    async def delete_expired_activity(self, month: Month, before: datetime) -> int:
        # The oldest month kept, up to the window's edge: an hour's events at each hourly upkeep, found by
        # the partition's primary key (led by time). Its name comes from Month, never from a request.
        statement = sa.text(f"DELETE FROM {month.partition(Category.ACTIVITY)} WHERE occur_time < :before")
        deleted = int((await self.session.execute(statement, {"before": before})).rowcount)  # type: ignore[attr-defined]
        if deleted:
            log.info("deleted %d expired events of %s", deleted, month.partition(Category.ACTIVITY))
        return deleted

    async def delete_unpartitioned_activity(self, before: datetime) -> int:
        deleted = int((await self.session.execute(_DELETE_UNPARTITIONED, {"before": before})).rowcount)  # type: ignore[attr-defined]
        if deleted:
            log.info("deleted %d expired events outside the monthly partitions", deleted)
        return deleted
