"""Sign-in throttles in Postgres: one row per email ever tried, locked while an attempt is counted."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.support.runtime.db import TrackingRepository
from services.users.data.tables import login_throttles
from services.users.domain.throttling import LoginThrottle


class SqlThrottleRepository(TrackingRepository):
    async def get(self, email: str) -> LoginThrottle:
        """The email's throttle, locked for this transaction (concurrent failures all count)."""
        await self.session.execute(insert(login_throttles).values(email=email, failures=0).on_conflict_do_nothing())
        query = sa.select(login_throttles).where(login_throttles.c.email == email).with_for_update()
        row = (await self.session.execute(query)).one()
        return self._track(LoginThrottle(**row._mapping))

    async def save(self, throttle: LoginThrottle) -> None:
        await self.session.execute(
            login_throttles.update()
            .where(login_throttles.c.email == throttle.email)
            .values(
                failures=throttle.failures,
                window_started_at=throttle.window_started_at,
                locked_until=throttle.locked_until,
            )
        )
