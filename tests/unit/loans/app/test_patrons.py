"""The projection of accounts keeps the newest version of each, in whatever order events come."""

from __future__ import annotations

from services.loans.app.patrons import keep_account
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
