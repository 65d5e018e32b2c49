"""Password resets in Postgres: one row per account with a live reset, holding only the token's digest."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.support.runtime.repository import TrackingRepository
from services.support.runtime.upkeep import BATCH_ROWS
from services.users.data.tables import password_resets
from services.users.domain.password_resets import PasswordReset

_COLUMNS = ("user_id", "digest", "created_at", "expires_at")


class SqlPasswordResetRepository(TrackingRepository):
    async def of_user(self, user_id: uuid.UUID) -> PasswordReset | None:
        """The account's live reset, if any, locked until commit (two requests at once: one mail)."""
        query = sa.select(password_resets).where(password_resets.c.user_id == user_id).with_for_update()
        row = (await self.session.execute(query)).first()
        return PasswordReset(**row._mapping) if row is not None else None

    async def find(self, digest: str) -> PasswordReset | None:
        """The reset whose token has this digest, locked until commit (two uses at once: one wins)."""
        query = sa.select(password_resets).where(password_resets.c.digest == digest).with_for_update()
        row = (await self.session.execute(query)).first()
        return PasswordReset(**row._mapping) if row is not None else None

    async def replace(self, reset: PasswordReset) -> None:
        """Store `reset` as the account's only one (the one before, if any, stops working)."""
        values = {name: getattr(reset, name) for name in _COLUMNS}
        await self.session.execute(
            insert(password_resets)
            .values(**values)
            .on_conflict_do_update(index_elements=[password_resets.c.user_id], set_=values)
        )
        self._track(reset)

    async def remove(self, user_id: uuid.UUID) -> None:
        await self.session.execute(password_resets.delete().where(password_resets.c.user_id == user_id))


EXPIRED_RESETS = password_resets.delete().where(
    password_resets.c.user_id.in_(
        sa.select(password_resets.c.user_id).where(password_resets.c.expires_at < sa.func.now()).limit(BATCH_ROWS)
    )
)
"""Resets whose link no longer works: no different from none."""
