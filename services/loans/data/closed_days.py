"""Persistence of the library's calendar (its closed days)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.loans.data.calendar_cache import ClosedDayCache
from services.loans.data.tables import closed_days
from services.loans.domain.calendar import ClosedDay, ClosedDayNotFound, closed_day_name
from services.support.runtime.driver import INTEGRITY_ERRORS
from services.support.runtime.errors import AlreadyExists
from services.support.runtime.repository import TrackingRepository

_ALL_DAYS = sa.select(closed_days.c.day)


def _to_closed_day(row: sa.Row[Any]) -> ClosedDay:
    m = row._mapping
    return ClosedDay(day=m["day"], reason=m["reason"], created_at=m["created_at"])


def already_closed(day: date) -> AlreadyExists:
    name = closed_day_name(day)
    return AlreadyExists(
        f"the library is already closed on {day.isoformat()}", reason="CLOSED_DAY_EXISTS", metadata={"closed_day": name}
    )


class SqlClosedDayRepository(TrackingRepository):
    def __init__(self, session: AsyncSession, *, cache: ClosedDayCache | None = None) -> None:
        super().__init__(session)
        self._cache = cache
        self.edited = False
        """A day was closed or opened in this transaction (the cache is dropped at its commit)."""

    async def in_force(self) -> frozenset[date]:
        """The closed dates lending applies: from this process's cache when it holds them, else read (and kept)."""
        if self._cache is not None and (cached := self._cache.get()) is not None:
            return cached
        generation = self._cache.generation() if self._cache is not None else 0
        days = frozenset((await self.session.execute(_ALL_DAYS)).scalars())
        if self._cache is not None:
            self._cache.put(days, generation)
        return days

    async def between(self, start: date | None, end: date | None) -> list[ClosedDay]:
        """The closed days from `start` to `end` (either may be open), earliest first."""
        query = sa.select(closed_days).order_by(closed_days.c.day)
        if start is not None:
            query = query.where(closed_days.c.day >= start)
        if end is not None:
            query = query.where(closed_days.c.day <= end)
        return [self._track(_to_closed_day(row)) for row in (await self.session.execute(query)).all()]

    async def get(self, day: date) -> ClosedDay:
        row = (await self.session.execute(sa.select(closed_days).where(closed_days.c.day == day))).first()
        if row is None:
            raise ClosedDayNotFound(day)
        return self._track(_to_closed_day(row))

    async def add(self, closed: ClosedDay) -> None:
        self.edited = True
        try:
            await self.session.execute(
                closed_days.insert().values(day=closed.day, reason=closed.reason, created_at=closed.created_at)
            )
        except INTEGRITY_ERRORS:
            raise already_closed(closed.day) from None
        self._track(closed)

    async def delete(self, closed: ClosedDay) -> None:
        self.edited = True
        await self.session.execute(closed_days.delete().where(closed_days.c.day == closed.day))
        self._track(closed)
