"""Users use cases against a real Postgres: uniqueness, listing, optimistic locking, sessions, throttles, keys."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict, Throttled, Unauthenticated
from services.support.runtime.identity import Role
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import OUTBOX
from services.users.app import accounts, signing_in
from services.users.app.ports import UserFilter
from services.users.app.signing_keys import RotateSigningKey, ensure_signing_key, rotate_signing_key
from services.users.data.passwords import Argon2Passwords
from services.users.data.signing_keys import KeysUnavailable, SqlSigningKeys, WrongPassphrase
from services.users.data.tables import users
from services.users.domain.accounts import Actor
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.sessions import RefreshTokenReused
from services.users.domain.signing_keys import SigningKey

pytestmark = pytest.mark.integration

PASSWORD = "Correct-Horse-42"
LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)


def _email(label: str = "reader") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.org"


async def _register(db, email: str | None = None) -> signing_in.SignedIn:
    command = signing_in.Register(Profile(email=email or _email()), PASSWORD)
    return await signing_in.register(command, uow=db.uow(), **db.auth)


async def _sign_in(
    db, email: str, password: str = PASSWORD, passwords=None, client: str = "203.0.113.1"
) -> signing_in.SignedIn:
    ports = {**db.auth, "passwords": passwords or db.passwords}
    command = signing_in.SignIn(email, password, client=client)
    return await signing_in.sign_in(command, uow=db.uow(), throttling=db.throttling, **ports)


async def _refresh(db, token: str) -> signing_in.SignedIn:
    command = signing_in.RefreshSession(token)
    return await signing_in.refresh_session(command, uow=db.uow(), clock=db.clock, keys=db.keys, lifetimes=db.lifetimes)


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
    user = await accounts.get_user(accounts.GetUser(signed_in.user.id), uow=users_db.uow())
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert "athenaeum.users.user_registered.v1" in await _outbox_subjects(users_db)


async def test_a_refresh_token_is_single_use_and_a_replay_revokes_the_session(users_db) -> None:
    first = await _register(users_db)
    second = await _refresh(users_db, first.refresh_token)
    with pytest.raises(RefreshTokenReused):
        await _refresh(users_db, first.refresh_token)
    with pytest.raises(Unauthenticated):  # the revocation was committed although the replay failed
        await _refresh(users_db, second.refresh_token)
    assert "athenaeum.users.session_revoked.v1" in await _outbox_subjects(users_db)


async def test_two_concurrent_refreshes_of_one_token_cannot_both_win(users_db) -> None:
    signed_in = await _register(users_db)
    results = await asyncio.gather(
        *(_refresh(users_db, signed_in.refresh_token) for _ in range(2)), return_exceptions=True
    )
    assert sum(isinstance(result, signing_in.SignedIn) for result in results) == 1
    assert sum(isinstance(result, RefreshTokenReused) for result in results) == 1


async def test_failed_sign_ins_make_that_client_wait_known_email_or_not_and_only_that_client(users_db) -> None:
    for email in (_email(), (await _register(users_db)).user.profile.email):
        for _ in range(4):
            with pytest.raises(Unauthenticated):
                await _sign_in(users_db, email, "Wrong-Password-1", client="198.51.100.4")
        with pytest.raises(Throttled):
            await _sign_in(users_db, email, client="198.51.100.4")
    assert await _sign_in(users_db, email, client="198.51.100.5")  # the owner, elsewhere
    users_db.clock.advance(timedelta(seconds=2))
    try:
        assert await _sign_in(users_db, email, client="198.51.100.4")
    finally:
        users_db.clock.advance(-timedelta(seconds=2))


async def test_concurrent_guesses_cannot_outrun_the_throttle(users_db) -> None:
    email = (await _register(users_db)).user.profile.email
    results = await asyncio.gather(
        *(_sign_in(users_db, email, "Wrong-Password-1", client="198.51.100.6") for _ in range(8)),
        return_exceptions=True,
    )
    assert sum(isinstance(result, Unauthenticated) for result in results) == 4  # the free ones and one more
    assert sum(isinstance(result, Throttled) for result in results) == 4


class _Ticking:
    """A clock a millisecond later at each reading: concurrent sign-ins begin at distinct moments."""

    def __init__(self, start) -> None:
        self._now = start

    def now(self):
        self._now += timedelta(milliseconds=1)
        return self._now


async def test_honest_sign_ins_at_once_from_one_address_all_get_in(users_db) -> None:
    """A library's terminals behind one address: the attempts take the address's throttle in any order, and
    one counted after a later one must not be told to wait while no failure is beyond the free ones."""
    emails = [(await _register(users_db)).user.profile.email for _ in range(6)]
    ticking = _Ticking(users_db.clock.now())
    ports = {**users_db.auth, "clock": ticking}
    for _ in range(4):
        results = await asyncio.gather(
            *(
                signing_in.sign_in(
                    signing_in.SignIn(email, PASSWORD, client="198.51.100.9"),
                    uow=users_db.uow(),
                    throttling=users_db.throttling,
                    **ports,
                )
                for email in emails
            ),
            return_exceptions=True,
        )
        assert [type(result).__name__ for result in results] == ["SignedIn"] * len(emails)


async def test_an_update_from_a_stale_read_is_refused(users_db) -> None:
    user = (await _register(users_db)).user
    change = accounts.UpdateUser(
        user.id, Profile(email="", display_name="First"), frozenset({"display_name"}), LIBRARIAN, etag=user.etag
    )
    await accounts.update_user(change, uow=users_db.uow(), **users_db.account_ports)
    with pytest.raises(Conflict) as error:
        await accounts.update_user(change, uow=users_db.uow(), **users_db.account_ports)
    assert error.value.reason == "STALE_ETAG"


async def test_of_two_concurrent_updates_the_second_to_save_loses(users_db) -> None:
    user = (await _register(users_db)).user
    slow = users_db.uow()
    async with slow:
        mine = await slow.users.get(user.id)  # read before the other update commits
        phone = Profile(email="", phone="+79991234567")
        change = accounts.UpdateUser(user.id, phone, frozenset({"phone"}), LIBRARIAN)
        await accounts.update_user(change, uow=users_db.uow(), **users_db.account_ports)
        mine.update(
            Profile(email="", display_name="Mine"),
            frozenset({"display_name"}),
            actor=LIBRARIAN,
            now=users_db.clock.now(),
        )
        with pytest.raises(Conflict) as error:
            await slow.users.save(mine)
    assert error.value.reason == CONCURRENT_UPDATE


async def test_blocking_a_patron_ends_their_sessions(users_db) -> None:
    signed_in = await _register(users_db)
    blocked = Profile(email="", status=UserStatus.BLOCKED, status_reason="lost card")
    change = accounts.UpdateUser(signed_in.user.id, blocked, frozenset({"status", "status_reason"}), LIBRARIAN)
    await accounts.update_user(change, uow=users_db.uow(), **users_db.account_ports)
    with pytest.raises(Unauthenticated):
        await _refresh(users_db, signed_in.refresh_token)


async def test_listing_filters_by_text_and_role_and_pages_stably(users_db) -> None:
    marker = uuid.uuid4().hex[:8]
    made = [await _register(users_db, f"{marker}-{n}@example.org") for n in range(5)]
    where = UserFilter(role=Role.READER, text=marker.upper())
    first = await accounts.list_users(accounts.ListUsers(where, page_size=3), uow=users_db.uow(), clock=users_db.clock)
    rest = accounts.ListUsers(where, page_size=3, page_token=first.next_page_token)
    second = await accounts.list_users(rest, uow=users_db.uow(), clock=users_db.clock)
    names = [u.name for u in first.items + second.items]
    assert first.total_size == 5 and second.next_page_token == ""
    assert sorted(names) == sorted(s.user.name for s in made) and len(set(names)) == 5


async def test_the_first_key_is_created_once_and_rotation_publishes_the_next(postgres, users_db) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "users_keys")  # no key yet, unlike users_db's
    await asyncio.to_thread(upgrade_to_head, "users", url)
    engine = create_async_engine(url)
    try:
        starting = [
            SqlSigningKeys(engine, passphrase=b"another-passphrase") for _ in range(2)
        ]  # two processes starting
        await asyncio.gather(*(ensure_signing_key(keys=keys, clock=users_db.clock) for keys in starting))
        store = starting[0]
        (first,) = (await store.keyring()).keys
        command = RotateSigningKey(activation_delay=timedelta(minutes=2))
        rotated = await rotate_signing_key(command, keys=store, clock=users_db.clock)
        ring = await store.keyring()
    finally:
        await engine.dispose()
    now = users_db.clock.now()
    assert {key.kid for key in ring.published(now, token_ttl=timedelta(minutes=15))} == {first.kid, rotated.kid}
    assert ring.signing_key(now).kid == first.kid
    assert ring.signing_key(now + timedelta(minutes=3)).kid == rotated.kid


async def test_a_key_another_passphrase_made_is_left_out_and_the_others_go_on_signing(postgres, users_db) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "users_keys_mixed")
    await asyncio.to_thread(upgrade_to_head, "users", url)
    engine = create_async_engine(url)
    try:
        ours, theirs = SqlSigningKeys(engine, passphrase=b"ours-1234"), SqlSigningKeys(engine, passphrase=b"theirs-1")
        await ensure_signing_key(keys=ours, clock=users_db.clock)
        command = RotateSigningKey(activation_delay=timedelta(0))
        with pytest.raises(WrongPassphrase):  # the operator's typo is refused before it adds anything
            await rotate_signing_key(command, keys=theirs, clock=users_db.clock)
        await theirs.add(SigningKey.generate(now=users_db.clock.now()))  # one added all the same (an old CLI)
        ring = await ours.keyring()
        with pytest.raises(KeysUnavailable):
            await SqlSigningKeys(engine, passphrase=b"nobody-s-1").keyring()  # opens none: unavailable
    finally:
        await engine.dispose()
    (kept,) = ring.keys
    assert ring.signing_key(users_db.clock.now()).kid == kept.kid


async def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(users_db) -> None:
    email = _email()
    weaker = Argon2Passwords(time_cost=1, memory_cost=8, parallelism=1)
    current = Argon2Passwords(time_cost=2, memory_cost=16, parallelism=1)
    command = signing_in.Register(Profile(email=email), PASSWORD)
    registered = await signing_in.register(command, uow=users_db.uow(), **{**users_db.auth, "passwords": weaker})
    before = await _stored_hash(users_db, registered.user.id)
    assert "$m=8,t=1,p=1$" in before and current.needs_rehash(before)

    signed_in = await _sign_in(users_db, email, passwords=current)
    after = await _stored_hash(users_db, registered.user.id)
    assert "$m=16,t=2,p=1$" in after and await current.verify(after, PASSWORD)
    assert signed_in.user.etag == registered.user.etag  # not a change of the account clients see
    await _sign_in(users_db, email, passwords=current)
    assert await _stored_hash(users_db, registered.user.id) == after  # upgraded once, not at every sign-in


async def _stored_hash(db, user_id: uuid.UUID) -> str:
    async with db.engine.connect() as connection:
        return await connection.scalar(sa.select(users.c.password_hash).where(users.c.id == user_id))


async def test_a_read_through_the_driver_is_the_account_the_transaction_reads(users_db) -> None:
    """Eligibility reads an account through the driver (no session): every field, the JSON of the kinds
    and the expiry included, comes back as the session's read gives it."""
    from datetime import UTC, datetime

    from services.users.domain.profile import KindChoice

    kinds = (KindChoice("hold_ready", True, False), KindChoice("loan_due_soon", False, True))
    profile = Profile(
        email=_email("driver"), display_name="Ада", phone="+79991234567", home_branch="east", sms_opt_in=True,
    )  # fmt: skip
    registered = await signing_in.register(signing_in.Register(profile, PASSWORD), uow=users_db.uow(), **users_db.auth)
    user_id = uuid.UUID(registered.user.name.removeprefix("users/"))
    stored = {
        "notification_kinds": {"hold_ready": {"email": True, "sms": False}, "loan_due_soon": {"sms": True}},
        "patron_category": "CHILD", "expire_at": datetime(2027, 1, 31, 12, 30, tzinfo=UTC), "locale": "ru",
        "status": UserStatus.BLOCKED.value, "status_reason": "a lost book",
    }  # fmt: skip
    async with users_db.engine.begin() as connection:  # preferences as a patron sets them later
        await connection.execute(sa.update(users).where(users.c.id == user_id).values(**stored))
    uow = users_db.uow()
    async with uow:
        in_transaction = await uow.users.get(user_id)
    async with uow.reading():
        assert uow.users._driver_access is not None  # the path under test
        through_driver = await uow.users.get(user_id)
    assert through_driver == in_transaction
    assert through_driver.profile.kind_choices == kinds
    assert through_driver.profile.expire_at == stored["expire_at"] and through_driver.profile.locale == "ru"
    user, eligibility = await accounts.get_borrowing_eligibility(
        accounts.GetBorrowingEligibility(user_id), uow=users_db.uow(), clock=users_db.clock
    )
    assert user == in_transaction and user.profile.patron_category == "CHILD"
    assert not eligibility.eligible and eligibility.reasons == ("blocked: a lost book",)  # a block is seen at once
    with pytest.raises(Exception, match=r"not found|users/"):
        async with uow.reading():
            await uow.users.get(uuid.uuid4())
