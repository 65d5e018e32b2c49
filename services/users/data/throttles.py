"""Sign-in throttles in Postgres: one row per key ever tried, locked while an attempt is counted."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.support.runtime.repository import TrackingRepository
from services.users.data.tables import sign_in_throttles
from services.users.domain.throttling import SignInThrottle


class SqlThrottleRepository(TrackingRepository):
    async def get(self, key: str) -> SignInThrottle:
        """The key's throttle, locked for this transaction (concurrent failures all count)."""
        await self.session.execute(insert(sign_in_throttles).values(key=key, failures=0).on_conflict_do_nothing())
        query = sa.select(sign_in_throttles).where(sign_in_throttles.c.key == key).with_for_update()
        row = (await self.session.execute(query)).one()
        return self._track(SignInThrottle(**row._mapping))

    async def save(self, throttle: SignInThrottle) -> None:
        await self.session.execute(
            sign_in_throttles.update()
            .where(sign_in_throttles.c.key == throttle.key)
            .values(failures=throttle.failures, last_attempt_at=throttle.last_attempt_at)
        )
