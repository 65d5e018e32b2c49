"""Closing an account (DeleteUser) while the patron still has books out or owes fines is refused, as Koha
refuses it; when the loans service cannot say, the account stays open (fail closed)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, PermissionDenied
from services.support.runtime.identity import Role
from services.users.app import accounts
from services.users.domain.accounts import Actor, Standing, User
from services.users.domain.profile import Profile, UserStatus

from ..conftest import open_session
from ..fakes import FakeCirculation, FakePasswords, FakeUsersDatabase

LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)


@pytest.fixture
def circulation() -> FakeCirculation:
    return FakeCirculation()


async def _reader(db: FakeUsersDatabase, clock: FixedClock, passwords: FakePasswords) -> User:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org")
    return await accounts.create_user(
        accounts.CreateUser(profile, "", LIBRARIAN), uow=db.unit_of_work(), clock=clock, passwords=passwords
    )


async def _close(db: FakeUsersDatabase, clock: FixedClock, circulation: FakeCirculation, user: User) -> User:
    command = accounts.DeleteUser(user.id, LIBRARIAN)
    return await accounts.delete_user(command, uow=db.unit_of_work(), clock=clock, circulation=circulation)


async def _status(db: FakeUsersDatabase, user: User) -> UserStatus:
    return (await accounts.get_user(accounts.GetUser(user.id), uow=db.unit_of_work())).profile.status


async def test_closing_is_refused_while_the_reader_has_books_out(db, clock, passwords, circulation) -> None:
    user = await _reader(db, clock, passwords)
    session = await open_session(db, user)
    circulation.standings[user.name] = Standing(loans_out=2, fines_outstanding=1, amount_owed="3.00")
    with pytest.raises(FailedPrecondition) as refused:
        await _close(db, clock, circulation, user)
    assert refused.value.reason == "ACCOUNT_HAS_LOANS"
    assert refused.value.metadata["loans_out"] == "2" and refused.value.metadata["amount_owed"] == "3.00"
    assert "2 book(s) out" in str(refused.value) and "return or settle first" in str(refused.value)
    assert await _status(db, user) == UserStatus.ACTIVE
    assert db.sessions[session.id].revoke_reason == ""  # nothing changed: still signed in
    assert circulation.asked == [user.name]


async def test_closing_is_refused_while_the_reader_owes_fines(db, clock, passwords, circulation) -> None:
    user = await _reader(db, clock, passwords)
    circulation.standings[user.name] = Standing(loans_out=0, fines_outstanding=1, amount_owed="3.00")
    with pytest.raises(FailedPrecondition) as refused:
        await _close(db, clock, circulation, user)
    assert refused.value.reason == "ACCOUNT_HAS_FINES"
    assert refused.value.metadata == {
        "name": user.name,
        "loans_out": "0",
        "fines_outstanding": "1",
        "amount_owed": "3.00",
    }
    assert "owes 3.00" in str(refused.value)
    assert await _status(db, user) == UserStatus.ACTIVE


async def test_an_account_with_nothing_out_or_owed_closes(db, clock, passwords, circulation) -> None:
    user = await _reader(db, clock, passwords)
    assert (await _close(db, clock, circulation, user)).profile.status == UserStatus.DEACTIVATED


async def test_the_account_stays_open_when_loans_cannot_be_asked(db, clock, passwords, circulation) -> None:
    user = await _reader(db, clock, passwords)
    circulation.reachable = False
    with pytest.raises(DependencyUnavailable) as unavailable:
        await _close(db, clock, circulation, user)
    assert unavailable.value.reason == "LOANS_UNAVAILABLE" and unavailable.value.retry_after
    assert await _status(db, user) == UserStatus.ACTIVE


async def test_closing_a_closed_account_again_does_not_ask_loans(db, clock, passwords, circulation) -> None:
    user = await _reader(db, clock, passwords)
    await _close(db, clock, circulation, user)
    circulation.reachable = False  # a repeat only ends sessions again: it needs no answer from loans
    assert (await _close(db, clock, circulation, user)).profile.status == UserStatus.DEACTIVATED


async def test_a_reader_is_refused_before_loans_is_asked(db, clock, passwords, circulation) -> None:
    user, other = await _reader(db, clock, passwords), await _reader(db, clock, passwords)
    command = accounts.DeleteUser(user.id, Actor(other.name, Role.READER))
    with pytest.raises(PermissionDenied):
        await accounts.delete_user(command, uow=db.unit_of_work(), clock=clock, circulation=circulation)
    assert circulation.asked == []


async def test_the_last_admin_is_refused_as_such_before_loans_is_asked(db, clock, passwords, circulation) -> None:
    """LAST_ADMIN is the answer whatever loans would say, even while loans cannot be reached."""
    admin = Actor(LIBRARIAN.name, Role.ADMIN)
    profile = Profile(email="admin@example.org", role=Role.ADMIN)
    command = accounts.CreateUser(profile, "", admin)
    only = await accounts.create_user(command, uow=db.unit_of_work(), clock=clock, passwords=passwords)
    circulation.reachable = False
    closing = accounts.DeleteUser(only.id, Actor(only.name, Role.ADMIN))
    with pytest.raises(FailedPrecondition) as refused:
        await accounts.delete_user(closing, uow=db.unit_of_work(), clock=clock, circulation=circulation)
    assert refused.value.reason == "LAST_ADMIN" and circulation.asked == []


class _SlowCirculation(FakeCirculation):
    """Answers that charges are held 10 s, and the clock has moved on by `takes` when the answer is in."""

    def __init__(self, clock: FixedClock, takes: timedelta) -> None:
        super().__init__()
        self._clock, self._takes = clock, takes

    async def standing(self, patron: str) -> Standing:
        await super().standing(patron)
        self._clock.advance(self._takes)
        return Standing(loans_out=0, fines_outstanding=0, amount_owed="0", charges_held_for=timedelta(seconds=10))


async def test_a_close_is_committed_within_the_loans_service_s_hold_on_charges_or_not_at_all(
    db, clock, passwords
) -> None:
    """NF3: a charge checked against the account before the close must not be committed after it; loans holds
    the patron's charges for a moment from the question, and the close is committed well within it."""
    user = await _reader(db, clock, passwords)
    with pytest.raises(DependencyUnavailable) as refused:
        await _close(db, clock, _SlowCirculation(clock, timedelta(seconds=6)), user)
    assert refused.value.reason == "CLOSE_TOO_SLOW" and await _status(db, user) == UserStatus.ACTIVE
    closed = await _close(db, clock, _SlowCirculation(clock, timedelta(seconds=1)), user)
    assert closed.profile.status == UserStatus.DEACTIVATED
