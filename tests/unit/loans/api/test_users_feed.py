"""The users events the projection of accounts reads, and those it leaves alone."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2
from services.loans.api.users_feed import ACCOUNTS, patron_record
from services.support.runtime.wire import event_subject, timestamp

EXPIRES = datetime(2027, 6, 30, tzinfo=UTC)


def _user(**fields: object) -> users_pb2.User:
    base: dict[str, object] = {
        "name": "users/ada",
        "status": users_pb2.USER_STATUS_ACTIVE,
        "patron_category": "STUDENT",
        "home_branch": "EAST",
        "etag": 'W/"7"',
    }
    return users_pb2.User(**{**base, **fields})  # type: ignore[arg-type]


def test_a_registration_and_an_update_become_the_account_with_its_version() -> None:
    registered = users_events.UserRegistered(user=_user(etag='W/"1"', expire_time=timestamp(EXPIRES)))
    record = patron_record(event_subject("users", registered), registered.SerializeToString())
    assert record is not None
    assert (record.patron, record.version, record.status) == ("users/ada", 1, "ACTIVE")
    assert (record.patron_category, record.home_branch, record.expire_at) == ("STUDENT", "EAST", EXPIRES)
    blocked = users_events.UserUpdated(user=_user(status=users_pb2.USER_STATUS_BLOCKED), update_mask=None)
    record = patron_record(event_subject("users", blocked), blocked.SerializeToString())
    assert record is not None and (record.version, record.status, record.expire_at) == (7, "BLOCKED", None)


def test_other_events_and_accounts_without_a_readable_version_store_nothing() -> None:
    signed_in = users_events.UserLoggedIn(name="users/ada")
    assert patron_record(event_subject("users", signed_in), signed_in.SerializeToString()) is None
    for etag in ("", '"7"', 'W/"x"', 'W/"-1"'):
        updated = users_events.UserUpdated(user=_user(etag=etag))
        assert patron_record(event_subject("users", updated), updated.SerializeToString()) is None
    unnamed = users_events.UserUpdated(user=_user(name=""))
    assert patron_record(event_subject("users", unnamed), unnamed.SerializeToString()) is None


@pytest.mark.parametrize("etag", ['W/"0"', 'W/"7', 'W/"7"; drop table', 'W/"' + "9" * 19 + '"'])
def test_an_account_with_a_malformed_etag_is_logged_and_skipped(etag: str, caplog: pytest.LogCaptureFixture) -> None:
    updated = users_events.UserUpdated(user=_user(etag=etag))
    with caplog.at_level(logging.WARNING, logger="athenaeum.loans.patrons"):
        assert patron_record(event_subject("users", updated), updated.SerializeToString()) is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "users/ada" in caplog.text and "skipped" in caplog.text


def test_a_status_this_build_does_not_know_is_kept_and_lends_nothing() -> None:
    updated = users_events.UserUpdated(user=_user(status=42))
    record = patron_record(event_subject("users", updated), updated.SerializeToString())
    assert record is not None and record.status == "UNKNOWN_42"


def test_the_consumer_is_handed_every_kind_of_event_that_can_change_an_account_here() -> None:
    """Every users event outside the consumer's subjects stores nothing, even one about a full account."""
    for message in users_events.DESCRIPTOR.message_types_by_name.values():
        event = users_events.__dict__[message.name]()
        if "user" in message.fields_by_name:
            event.user.CopyFrom(_user())
        subject = event_subject("users", event)
        if subject not in ACCOUNTS.subjects:
            assert patron_record(subject, event.SerializeToString()) is None, message.name
    assert len(ACCOUNTS.subjects) == 2  # UserRegistered and UserUpdated: not the sign-ins
