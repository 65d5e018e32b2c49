"""Password resets on real Postgres: the table keeps one digest per account (never the token), a newer request
replaces the older link, a token sets a password once, and the upkeep forgets expired resets."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from athenaeum.users.v1 import events_pb2
from services.support.runtime.errors import FailedPrecondition, Unauthenticated
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.upkeep import delete_until_none
from services.users.app import password_resets, signing_in
from services.users.data.password_resets import EXPIRED_RESETS
from services.users.data.tables import password_resets as resets_table
from services.users.domain.password_resets import ResetPolicy
from services.users.domain.profile import Profile
from services.users.domain.sessions import token_digest

pytestmark = pytest.mark.integration
OLD, NEW = "Correct-Horse-42", "Battery-Staple-77"
POLICY = ResetPolicy()


async def _register(db) -> signing_in.SignedIn:
    command = signing_in.Register(Profile(email=f"reset-{uuid.uuid4().hex[:10]}@example.org"), OLD)
    return await signing_in.register(command, uow=db.uow(), **db.auth)


async def _request(db, user) -> str:
    """Ask for a reset; the token the outbox holds for the mail (the newest for this account)."""
    command = password_resets.RequestPasswordReset(user.profile.email)
    await password_resets.request_password_reset(command, uow=db.uow(), clock=db.clock, policy=POLICY)
    async with db.engine.connect() as connection:
        query = sa.select(OUTBOX.c.payload).where(OUTBOX.c.subject == "athenaeum.users.password_reset_requested.v1")
        payloads = (await connection.execute(query.order_by(OUTBOX.c.seq))).scalars()
        events = [events_pb2.PasswordResetRequested.FromString(p) for p in payloads]
    return [e.token for e in events if e.name == user.name][-1]


async def _rows(db, user_id: uuid.UUID) -> list[dict]:
    async with db.engine.connect() as connection:
        query = sa.select(resets_table).where(resets_table.c.user_id == user_id)
        return [dict(row._mapping) for row in await connection.execute(query)]


async def _reset(db, token: str, new: str = NEW) -> None:
    command = password_resets.ResetPassword(token, new)
    await password_resets.reset_password(command, uow=db.uow(), clock=db.clock, passwords=db.passwords)


async def _sign_in(db, email: str, password: str) -> signing_in.SignedIn:
    command = signing_in.SignIn(email, password, client="203.0.113.9")
    return await signing_in.sign_in(command, uow=db.uow(), throttling=db.throttling, **db.auth)


async def test_a_reset_stores_only_a_digest_and_sets_the_password_once(users_db) -> None:
    user = (await _register(users_db)).user
    token = await _request(users_db, user)
    (row,) = await _rows(users_db, user.id)
    assert row["digest"] == token_digest(token) and token not in str(row)
    await _reset(users_db, token)
    assert await _rows(users_db, user.id) == []
    with pytest.raises(Unauthenticated):
        await _sign_in(users_db, user.profile.email, OLD)
    assert (await _sign_in(users_db, user.profile.email, NEW)).user.id == user.id
    with pytest.raises(FailedPrecondition):
        await _reset(users_db, token, new="Another-Password-99")


async def test_a_newer_request_replaces_the_older_link_and_expired_ones_are_forgotten(users_db) -> None:
    user = (await _register(users_db)).user
    older = await _request(users_db, user)
    users_db.clock.advance(timedelta(minutes=2))
    newer = await _request(users_db, user)
    assert older != newer and len(await _rows(users_db, user.id)) == 1
    with pytest.raises(FailedPrecondition):
        await _reset(users_db, older)
    async with users_db.engine.begin() as connection:
        await connection.execute(
            resets_table.update().where(resets_table.c.user_id == user.id).values(expires_at=sa.func.now())
        )
    await delete_until_none(users_db.engine, [EXPIRED_RESETS])
    assert await _rows(users_db, user.id) == []
