"""Sign-in throttles in Postgres: one row per key tried, locked while an attempt is counted, deleted by the
service's upkeep once its every failure is forgotten."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.support.runtime.repository import TrackingRepository
from services.support.runtime.upkeep import BATCH_ROWS
from services.users.data.tables import sign_in_throttles
from services.users.domain.throttling import SignInThrottle


class SqlThrottleRepository(TrackingRepository):
    async def get(self, key: str) -> SignInThrottle:
        """The key's throttle, locked for this transaction (concurrent failures all count): made or locked in
        one statement, so the upkeep deleting a forgotten row meanwhile cannot leave it missing."""
        made_or_locked = (
            insert(sign_in_throttles)
            .values(key=key, failures=0)
            .on_conflict_do_update(index_elements=[sign_in_throttles.c.key], set_={"key": key})
            .returning(*sign_in_throttles.c)
        )
        row = (await self.session.execute(made_or_locked)).one()
        return self._track(SignInThrottle(**row._mapping))

    async def save(self, throttle: SignInThrottle) -> None:
        await self.session.execute(
            sign_in_throttles.update()
            .where(sign_in_throttles.c.key == throttle.key)
            .values(failures=throttle.failures, last_attempt_at=throttle.last_attempt_at, refused=throttle.refused)
        )


FORGOTTEN_THROTTLES = sign_in_throttles.delete().where(
    sign_in_throttles.c.key.in_(
        sa.select(sign_in_throttles.c.key)
        .where(
            sa.or_(
                sign_in_throttles.c.last_attempt_at.is_(None),
                sign_in_throttles.c.last_attempt_at
                < sa.func.now()
                - sign_in_throttles.c.failures * sa.bindparam("forget_one_every", type_=sa.Interval)
                - sa.text("interval '1 hour'"),
            )
        )
        .limit(BATCH_ROWS)
    )
)
"""Rows whose every failure was forgotten over an hour ago (at the slower policy's pace): no different from no
row. One is made per (account, address) ever tried, and per address: kept, they grew with every reader's new
mobile address and every sprayer's guess."""
