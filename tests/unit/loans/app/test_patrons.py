"""The projection of accounts keeps the newest version of each, in whatever order events come."""

from __future__ import annotations

from services.loans.app.patrons import StreamSeen, follow_stream, keep_account
from services.loans.domain.patrons import PatronRecord

from ..fakes import FakeLoansDatabase


async def test_a_newer_version_replaces_an_older_one_and_never_the_reverse(db: FakeLoansDatabase) -> None:
    active = PatronRecord("users/ada", 4, "ACTIVE", patron_category="ADULT")
    blocked = PatronRecord("users/ada", 5, "BLOCKED", patron_category="ADULT")
    assert await keep_account(active, uow=db.unit_of_work())
    assert await keep_account(blocked, uow=db.unit_of_work())
    assert not await keep_account(active, uow=db.unit_of_work())  # the older event, delivered late
    assert not await keep_account(blocked, uow=db.unit_of_work())  # the same one again
    assert db.patrons["users/ada"] == blocked


async def test_the_projection_goes_on_only_from_the_stream_it_was_built_from(db: FakeLoansDatabase) -> None:
    async def follow(created: str, *, lost: bool = False) -> bool:
        return await follow_stream(StreamSeen("ATHENAEUM_USERS", created, lost_messages=lost), uow=db.unit_of_work())

    ada = PatronRecord("users/ada", 1, "ACTIVE")
    assert not await follow("2026-12-01T00:00:00Z")  # the first time: nothing to forget
    await keep_account(ada, uow=db.unit_of_work())
    assert not await follow("2026-12-01T00:00:00Z") and db.patrons  # the same stream, subscribed again
    assert await follow("2026-12-04T09:00:00Z") and not db.patrons  # NATS lost its storage: made again
    await keep_account(ada, uow=db.unit_of_work())
    assert await follow("2026-12-04T09:00:00Z", lost=True) and not db.patrons  # messages expired unread
    assert db.patron_feed == {"ATHENAEUM_USERS": "2026-12-04T09:00:00Z"}
