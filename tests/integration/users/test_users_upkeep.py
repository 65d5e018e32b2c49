"""What the users service deletes in the background, on real Postgres: sessions no one can use again with their
refresh tokens (one token is stored per refresh, so they grew without bound), while a session in use keeps
every token it needs; sign-in throttles whose failures are all forgotten."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.support.runtime.errors import Unauthenticated
from services.support.runtime.upkeep import delete_until_none
from services.users.app import signing_in
from services.users.data.sessions import EXPIRED_TOKENS, FINISHED_SESSIONS
from services.users.data.tables import refresh_tokens, sessions, sign_in_throttles
from services.users.data.throttles import FORGOTTEN_THROTTLES
from services.users.domain.profile import Profile
from services.users.domain.sessions import RefreshTokenReused, token_digest

pytestmark = pytest.mark.integration
PASSWORD = "Correct-Horse-42"


async def _register(db) -> signing_in.SignedIn:
    command = signing_in.Register(Profile(email=f"upkeep-{uuid.uuid4().hex[:10]}@example.org"), PASSWORD)
    return await signing_in.register(command, uow=db.uow(), **db.auth)


async def _refresh(db, token: str) -> signing_in.SignedIn:
    command = signing_in.RefreshSession(token)
    return await signing_in.refresh_session(command, uow=db.uow(), clock=db.clock, keys=db.keys, lifetimes=db.lifetimes)


async def _stored(db, user_id: uuid.UUID) -> tuple[int, int]:
    """(sessions, refresh tokens) of the user."""
    async with db.engine.connect() as connection:
        ids = sa.select(sessions.c.id).where(sessions.c.user_id == user_id)
        count = sa.select(sa.func.count()).select_from
        return (
            (await connection.execute(count(sessions).where(sessions.c.user_id == user_id))).scalar_one(),
            (await connection.execute(count(refresh_tokens).where(refresh_tokens.c.session_id.in_(ids)))).scalar_one(),
        )


async def _age(db, refresh_token: str, *, days: int, session_too: bool = False) -> None:
    """As if this refresh token (and its session, its access tokens, with `session_too`) were `days` older."""
    moved = timedelta(days=days)
    token = refresh_tokens.c.digest == token_digest(refresh_token)
    async with db.engine.begin() as connection:
        await connection.execute(
            refresh_tokens.update()
            .where(token)
            .values(issued_at=refresh_tokens.c.issued_at - moved, expires_at=refresh_tokens.c.expires_at - moved)
        )
        if session_too:
            await connection.execute(
                sessions.update()
                .where(sessions.c.id == sa.select(refresh_tokens.c.session_id).where(token).scalar_subquery())
                .values(created_at=sessions.c.created_at - moved)
                .values(access_expires_at=sessions.c.access_expires_at - moved)
            )


async def test_a_session_past_every_token_goes_and_a_session_in_use_keeps_its_tokens(users_db) -> None:
    gone = await _register(users_db)
    kept = await _register(users_db)
    spent_before = await _refresh(users_db, kept.refresh_token)
    spent_today = await _refresh(users_db, spent_before.refresh_token)
    await _age(users_db, gone.refresh_token, days=40, session_too=True)  # signed in 40 days ago, never since
    await _age(users_db, kept.refresh_token, days=40)  # its first token expired 10 days ago; the two after it are valid
    assert await _stored(users_db, gone.user.id) == (1, 1)
    assert await _stored(users_db, kept.user.id) == (1, 3)

    assert await delete_until_none(users_db.engine, [EXPIRED_TOKENS, FINISHED_SESSIONS]) >= 3

    assert await _stored(users_db, gone.user.id) == (0, 0)
    assert await _stored(users_db, kept.user.id) == (1, 2)  # only the token that expired went
    with pytest.raises(Unauthenticated):
        await _refresh(users_db, gone.refresh_token)
    with pytest.raises(RefreshTokenReused):  # a spent token that could still be used is kept: its replay is caught
        await _refresh(users_db, spent_before.refresh_token)
    with pytest.raises(Unauthenticated):  # and that replay ended the session
        await _refresh(users_db, spent_today.refresh_token)


async def test_a_throttle_goes_once_its_every_failure_is_forgotten(users_db) -> None:
    now = datetime.now(UTC)  # the server's clock: same host
    rows = {
        "forgotten": (3, now - timedelta(hours=2)),  # 3 x 5 min forgotten at 1:45 ago, over an hour before now
        "remembered": (20, now - timedelta(hours=2)),  # 20 x 5 min: forgotten only 20 minutes from now
        "recent": (0, now - timedelta(minutes=30)),
    }
    prefix = f"test {uuid.uuid4().hex[:8]} "
    async with users_db.engine.begin() as connection:
        await connection.execute(
            sign_in_throttles.insert(),
            [{"key": prefix + name, "failures": n, "last_attempt_at": at} for name, (n, at) in rows.items()],
        )

    await delete_until_none(users_db.engine, [FORGOTTEN_THROTTLES], {"forget_one_every": timedelta(minutes=5)})

    async with users_db.engine.connect() as connection:
        left = sa.select(sign_in_throttles.c.key).where(sign_in_throttles.c.key.startswith(prefix))
        assert sorted((await connection.execute(left)).scalars()) == [prefix + "recent", prefix + "remembered"]
