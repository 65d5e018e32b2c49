"""Users use cases against a real Postgres: uniqueness, listing, optimistic locking, sessions, throttles, keys."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.support.runtime.errors import AlreadyExists, Conflict, Throttled, Unauthenticated
from services.support.runtime.outbox import OUTBOX
from services.users import auth_handlers, handlers
from services.users.domain import Actor, Profile, UserRole, UserStatus
from services.users.keys import KeyStore
from services.users.repository import UserFilter
from services.users.sessions import RefreshTokenReused

pytestmark = pytest.mark.integration

PASSWORD = "Correct-Horse-42"
LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", UserRole.LIBRARIAN)


def _email(label: str = "reader") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.org"


async def _register(db, email: str | None = None) -> auth_handlers.SignedIn:
    command = auth_handlers.Register(Profile(email=email or _email()), PASSWORD)
    return await auth_handlers.register(command, db.uow(), db.deps)


async def _outbox_subjects(db) -> list[str]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))).scalars())


async def test_an_email_is_taken_whatever_its_case(users_db) -> None:
    email = _email()
    await _register(users_db, email)
    with pytest.raises(AlreadyExists):
        await _register(users_db, email.upper())


async def test_registration_stores_a_hash_and_announces_the_user(users_db) -> None:
    signed_in = await _register(users_db)
    user = await handlers.get_user(signed_in.user.id, users_db.uow())
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert "athenaeum.users.user_registered.v1" in await _outbox_subjects(users_db)


async def test_a_refresh_token_is_single_use_and_a_replay_revokes_the_session(users_db) -> None:
    first = await _register(users_db)
    second = await auth_handlers.refresh(first.refresh_token, users_db.uow(), users_db.deps)
    with pytest.raises(RefreshTokenReused):
        await auth_handlers.refresh(first.refresh_token, users_db.uow(), users_db.deps)
    with pytest.raises(Unauthenticated):  # the revocation was committed although the replay failed
        await auth_handlers.refresh(second.refresh_token, users_db.uow(), users_db.deps)
    assert "athenaeum.users.session_revoked.v1" in await _outbox_subjects(users_db)


async def test_two_concurrent_refreshes_of_one_token_cannot_both_win(users_db) -> None:
    signed_in = await _register(users_db)
    results = await asyncio.gather(
        *(auth_handlers.refresh(signed_in.refresh_token, users_db.uow(), users_db.deps) for _ in range(2)),
        return_exceptions=True,
    )
    assert sum(isinstance(result, auth_handlers.SignedIn) for result in results) == 1
    assert sum(isinstance(result, RefreshTokenReused) for result in results) == 1


async def test_failed_sign_ins_lock_the_email_even_when_it_is_unknown(users_db) -> None:
    for email in (_email(), (await _register(users_db)).user.profile.email):
        for _ in range(3):
            with pytest.raises(Unauthenticated):
                await auth_handlers.login(email, "Wrong-Password-1", users_db.uow(), users_db.deps)
        with pytest.raises(Throttled):
            await auth_handlers.login(email, PASSWORD, users_db.uow(), users_db.deps)
    users_db.clock.advance(timedelta(minutes=6))
    try:
        assert await auth_handlers.login(email, PASSWORD, users_db.uow(), users_db.deps)
    finally:
        users_db.clock.advance(-timedelta(minutes=6))


async def test_an_update_from_a_stale_read_is_refused(users_db) -> None:
    user = (await _register(users_db)).user
    change = handlers.UpdateUser(
        user.id, Profile(email="", display_name="First"), frozenset({"display_name"}), LIBRARIAN, etag=user.etag
    )
    await handlers.update_user(change, users_db.uow(), users_db.clock)
    with pytest.raises(Conflict):
        await handlers.update_user(change, users_db.uow(), users_db.clock)


async def test_blocking_a_patron_ends_their_sessions(users_db) -> None:
    signed_in = await _register(users_db)
    blocked = Profile(email="", status=UserStatus.BLOCKED, status_reason="lost card")
    change = handlers.UpdateUser(signed_in.user.id, blocked, frozenset({"status", "status_reason"}), LIBRARIAN)
    await handlers.update_user(change, users_db.uow(), users_db.clock)
    with pytest.raises(Unauthenticated):
        await auth_handlers.refresh(signed_in.refresh_token, users_db.uow(), users_db.deps)


async def test_listing_filters_by_text_and_role_and_pages_stably(users_db) -> None:
    marker = uuid.uuid4().hex[:8]
    made = [await _register(users_db, f"{marker}-{n}@example.org") for n in range(5)]
    where = UserFilter(role=UserRole.READER, text=marker.upper())
    first = await handlers.list_users(handlers.ListUsers(where, page_size=3), users_db.uow())
    second = await handlers.list_users(
        handlers.ListUsers(where, page_size=3, page_token=first.next_page_token), users_db.uow()
    )
    names = [u.name for u in first.users + second.users]
    assert first.total_size == 5 and second.next_page_token == ""
    assert sorted(names) == sorted(s.user.name for s in made) and len(set(names)) == 5


async def test_the_first_key_is_created_once_and_rotation_publishes_the_next(users_db) -> None:
    store = KeyStore(users_db.engine, passphrase=b"test-passphrase", clock=users_db.clock)
    await asyncio.gather(store.ensure_key(), store.ensure_key())
    (first,) = (await store.keyring()).keys
    rotated = await store.rotate(activation_delay=timedelta(minutes=2))
    ring = await store.keyring()
    now = users_db.clock.now()
    assert {key.kid for key in ring.published(now, token_ttl=timedelta(minutes=15))} == {first.kid, rotated.kid}
    assert ring.signing_key(now).kid == first.kid
    assert ring.signing_key(now + timedelta(minutes=3)).kid == rotated.kid
