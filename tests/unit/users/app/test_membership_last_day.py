"""A membership's expiry is a date, as Koha's and Evergreen's are: it lasts to the end (23:59:59) of the library's
day on which the expire_time given falls, in ATHENAEUM_LIBRARY_TIME_ZONE, as a loan's hard due date does. Kept to
the instant, "31 Dec" sent as 2027-12-31T00:00:00Z ended a New York membership at 19:00 on 30 Dec."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.support.runtime.clock import FixedClock
from services.support.runtime.identity import Role
from services.users.app import accounts
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile, UserStatus
from services.users.settings import UsersSettings

from ..conftest import THROTTLING
from ..fakes import FakePasswords, FakeUsersDatabase

NEW_YORK = ZoneInfo("America/New_York")
LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)
MIDNIGHT_UTC = datetime(2027, 12, 31, tzinfo=UTC)  # what a form sends for "2027-12-31": 19:00 on 30 Dec in New York
END_OF_30_DEC = datetime(2027, 12, 31, 4, 59, 59, tzinfo=UTC)  # 23:59:59 EST on 30 Dec
END_OF_31_DEC = datetime(2028, 1, 1, 4, 59, 59, tzinfo=UTC)


async def _create(db: FakeUsersDatabase, clock: FixedClock, expire_at: datetime) -> User:
    profile = Profile(email=f"{uuid.uuid4().hex[:8]}@example.org", expire_at=expire_at)
    command = accounts.CreateUser(profile, "", LIBRARIAN)
    return await accounts.create_user(
        command, uow=db.unit_of_work(), clock=clock, passwords=FakePasswords(), library_zone=NEW_YORK
    )


async def _set_expiry(db: FakeUsersDatabase, clock: FixedClock, user: User, expire_at: datetime | None) -> User:
    command = accounts.UpdateUser(
        user.id, Profile(email="", expire_at=expire_at), frozenset({"expire_time"}), LIBRARIAN
    )
    return await accounts.update_user(
        command,
        uow=db.unit_of_work(),
        clock=clock,
        passwords=FakePasswords(),
        throttling=THROTTLING,
        library_zone=NEW_YORK,
    )


async def test_a_membership_made_at_the_desk_lasts_to_the_end_of_the_librarys_day_of_its_expiry(db) -> None:
    clock = FixedClock(datetime(2027, 12, 30, 12, tzinfo=UTC))
    user = await _create(db, clock, MIDNIGHT_UTC)
    assert db.users[user.id].profile.expire_at == END_OF_30_DEC  # the day it falls on there: 30 Dec
    clock.advance(timedelta(hours=10))  # 17:00 on 30 Dec in New York, 22:00 UTC: the old expiry is 2 hours away
    clock.advance(timedelta(hours=3))  # 20:00 on 30 Dec in New York: past the instant sent, not the day
    db.users[user.id].ensure_may_sign_in(clock.now())
    assert db.users[user.id].eligibility(clock.now()).eligible
    clock.advance(timedelta(hours=4))  # 00:00 on 31 Dec in New York: that day has ended
    assert db.users[user.id].effective_status(clock.now()) == UserStatus.EXPIRED


async def test_a_changed_expiry_lasts_to_the_end_of_its_day_and_a_date_with_its_offset_is_that_date(db) -> None:
    clock = FixedClock(datetime(2027, 6, 1, tzinfo=UTC))
    user = await _create(db, clock, datetime(2027, 9, 1, tzinfo=UTC))
    assert db.users[user.id].profile.expire_at == datetime(2027, 9, 1, 3, 59, 59, tzinfo=UTC)  # EDT: 31 Aug ends
    changed = await _set_expiry(db, clock, user, datetime(2027, 12, 31, tzinfo=NEW_YORK))  # "2027-12-31T00:00-05:00"
    assert changed.profile.expire_at == db.users[user.id].profile.expire_at == END_OF_31_DEC
    again = await _set_expiry(db, clock, changed, changed.profile.expire_at)  # sent back as read: unchanged
    assert again.profile.expire_at == END_OF_31_DEC
    cleared = await _set_expiry(db, clock, again, None)
    assert cleared.profile.expire_at is None


async def test_an_expiry_on_the_day_itself_leaves_the_member_in_until_it_ends(db) -> None:
    """Setting today's date no longer expires the account at once (signing it out): it ends tonight."""
    clock = FixedClock(datetime(2027, 12, 30, 15, tzinfo=UTC))  # 10:00 in New York
    user = await _create(db, clock, datetime(2027, 12, 30, 14, tzinfo=UTC))  # an hour ago, on the same day
    db.users[user.id].ensure_may_sign_in(clock.now())
    assert not db.users[user.id].restricted(clock.now())
    clock.advance(timedelta(hours=14))  # 00:00 on 31 Dec there
    db.users[user.id].ensure_may_sign_in(clock.now())  # expired, it still signs in to see what it has out
    assert db.users[user.id].restricted(clock.now())


def test_the_users_service_reads_the_librarys_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert UsersSettings().library_zone == ZoneInfo("UTC")
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", "America/New_York")
    assert UsersSettings().library_zone == NEW_YORK
    for wrong in ("America/New_Yrok", "localtime", "posix/America/New_York"):
        monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", wrong)
        with pytest.raises(ValidationError, match=r"ATHENAEUM_LIBRARY_TIME_ZONE: .* is not an IANA time zone"):
            UsersSettings()
