"""Sign-in sessions and their refresh tokens in Postgres (only token digests are stored)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from services.support.runtime.repository import TrackingRepository
from services.support.runtime.upkeep import BATCH_ROWS
from services.users.data.tables import refresh_tokens, sessions
from services.users.domain.sessions import RefreshToken, Session


class SqlSessionRepository(TrackingRepository):
    async def add(self, session: Session) -> None:
        await self.session.execute(
            sessions.insert().values(
                id=session.id,
                user_id=session.user_id,
                created_at=session.created_at,
                access_expires_at=session.access_expires_at,
            )
        )
        self._track(session)

    async def find_refresh_token(self, digest: str) -> RefreshToken | None:
        """The stored token with this digest, locked until commit: of two refreshes with one token, the
        second waits for the first and then sees it spent (one token, one rotation)."""
        query = sa.select(refresh_tokens).where(refresh_tokens.c.digest == digest).with_for_update()
        row = (await self.session.execute(query)).first()
        return RefreshToken(**row._mapping) if row is not None else None

    async def get(self, session_id: uuid.UUID) -> Session:
        """The session, locked until commit (a revocation and a refresh of one session do not interleave)."""
        query = sa.select(sessions).where(sessions.c.id == session_id).with_for_update()
        row = (await self.session.execute(query)).one()
        return self._track(Session(**row._mapping))

    async def active_of(self, user_id: uuid.UUID) -> list[Session]:
        query = sa.select(sessions).where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        return [self._track(Session(**row._mapping)) for row in (await self.session.execute(query)).all()]

    async def save(self, session: Session, *, spent: RefreshToken | None = None) -> None:
        """Store the session's state, the token it spent, and the tokens it issued."""
        await self.session.execute(
            sessions.update()
            .where(sessions.c.id == session.id)
            .values(
                access_expires_at=session.access_expires_at,
                revoked_at=session.revoked_at,
                revoke_reason=session.revoke_reason,
            )
        )
        if spent is not None:
            await self.session.execute(
                refresh_tokens.update().where(refresh_tokens.c.digest == spent.digest).values(used_at=spent.used_at)
            )
        if session.issued:
            await self.session.execute(
                refresh_tokens.insert(),
                [
                    {
                        "digest": t.digest,
                        "session_id": t.session_id,
                        "issued_at": t.issued_at,
                        "expires_at": t.expires_at,
                    }
                    for t in session.issued
                ],
            )
            session.issued.clear()


_NOW = sa.func.now()
EXPIRED_TOKENS = refresh_tokens.delete().where(
    refresh_tokens.c.digest.in_(
        sa.select(refresh_tokens.c.digest).where(refresh_tokens.c.expires_at < _NOW).limit(BATCH_ROWS)
    )
)
"""Refresh tokens past their expiry: refused whatever they are, and one is stored per refresh (a web client
open all day rotates ~100), so kept forever they grew without bound. A spent token stays until its own
expiry, so its replay still ends its session (reuse detection) as long as it could have been used."""
FINISHED_SESSIONS = sessions.delete().where(
    sessions.c.id.in_(
        sa.select(sessions.c.id)
        .where(
            sessions.c.access_expires_at < _NOW - sa.text("interval '1 day'"),
            ~sa.exists().where(refresh_tokens.c.session_id == sessions.c.id),
        )
        .limit(BATCH_ROWS)
    )
)
"""Sessions that can never be used again: no refresh token left, every access token expired (a day ago, so no
service still holds one of them as revoked)."""
