"""A reader who chose no time zone is told dates, and kept from SMS at night, in the library's zone: the one
ATHENAEUM_LIBRARY_TIME_ZONE that makes loans due at the end of the library's day, not UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.notifications.app.notifying import take_in
from services.notifications.domain.kinds import Channel
from services.notifications.settings import NotificationsSettings
from services.support.runtime.clock import FixedClock
from services.support.runtime.wire import event_subject, timestamp

from .fakes import recipient
from .test_decoding import DECODER

DUE = datetime(2026, 12, 21, 4, 59, 59, tzinfo=UTC)
"""What loans makes of a 14-day loan in a New York library: the end of Sunday 20 December there (EST)."""

WINDOW = timedelta(seconds=60)
"""A loan notice waits for the same reader's next ones (the default batch window, finding N5)."""


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> NotificationsSettings:
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", "America/New_York")
    return NotificationsSettings()


async def _due_soon(db, renderer, catalog, settings: NotificationsSettings, *, now: datetime, **person):
    reader = recipient(**person)  # registered through the API: no time zone ("")
    db.recipients[reader.user_id] = reader
    loan = resources_pb2.Loan(name="loans/l1", patron=reader.name, book_title="Time Book", barcode="T002",
                              due_time=timestamp(DUE), max_renewals=2)  # fmt: skip
    event = loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=timestamp(now), loan=loan, step=1)
    intake = DECODER.intake(event_subject("loans", event), event.SerializeToString(), trace={})
    taken = await take_in(
        [intake], uow=db.unit_of_work(), clock=FixedClock(now), renderer=renderer, catalog=catalog,
        rules=settings.rules(),
    )  # fmt: skip
    return {n.channel: n for n in taken.queued}


async def test_a_reader_without_a_time_zone_reads_the_due_date_of_the_library_day(
    db, renderer, catalog, new_york
) -> None:
    noon_in_new_york = datetime(2026, 12, 18, 17, tzinfo=UTC)
    queued = await _due_soon(db, renderer, catalog, new_york, now=noon_in_new_york)
    for notification in queued.values():
        assert "Sunday, 20 December 2026, 23:59 EST" in notification.content.text
        assert "Monday" not in notification.content.text and "UTC" not in notification.content.text
    assert queued[Channel.SMS].next_attempt_at == noon_in_new_york + WINDOW


async def test_an_sms_to_a_reader_without_a_time_zone_waits_for_the_librarys_morning(
    db, renderer, catalog, new_york
) -> None:
    four_in_the_morning_there = datetime(2026, 12, 18, 9, tzinfo=UTC)  # 09:00 UTC: no quiet hours in UTC
    queued = await _due_soon(db, renderer, catalog, new_york, now=four_in_the_morning_there)
    assert queued[Channel.SMS].next_attempt_at == datetime(2026, 12, 18, 13, tzinfo=UTC)  # 08:00 EST
    assert queued[Channel.EMAIL].next_attempt_at == four_in_the_morning_there + WINDOW


async def test_a_readers_own_time_zone_still_comes_first(db, renderer, catalog, new_york) -> None:
    queued = await _due_soon(db, renderer, catalog, new_york, now=datetime(2026, 12, 18, 9, tzinfo=UTC),
                             time_zone="Europe/London")  # fmt: skip
    assert "Monday, 21 December 2026, 04:59 GMT" in queued[Channel.EMAIL].content.text
    assert queued[Channel.SMS].next_attempt_at == datetime(2026, 12, 18, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize("wrong", ["Europe/Moskow", "localtime", "Factory", "posix/Europe/Moscow", "Europe", ""])
def test_a_library_time_zone_that_is_no_place_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", wrong)
    with pytest.raises(ValidationError, match=r"ATHENAEUM_LIBRARY_TIME_ZONE: .* is not an IANA time zone"):
        NotificationsSettings()


def test_the_former_setting_still_counts_alone_and_may_not_contradict_the_library_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert NotificationsSettings().rules().library_time_zone == "UTC"
    monkeypatch.setenv("ATHENAEUM_DEFAULT_TIME_ZONE", "Asia/Tokyo")
    assert NotificationsSettings().rules().library_time_zone == "Asia/Tokyo"
    monkeypatch.setenv("ATHENAEUM_DEFAULT_TIME_ZONE", "Asia/Tokio")
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        NotificationsSettings()
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", "America/New_York")
    with pytest.raises(ValidationError, match="set only ATHENAEUM_LIBRARY_TIME_ZONE"):
        NotificationsSettings()
    monkeypatch.setenv("ATHENAEUM_DEFAULT_TIME_ZONE", "America/New_York")
    assert NotificationsSettings().rules().library_time_zone == "America/New_York"


@pytest.mark.parametrize("days", ["99999999", "1000000000", "0", "-1"])
def test_a_kept_days_setting_out_of_a_century_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch, days: str
) -> None:
    # 99,999,999 days started, then failed every hourly clean-up ("timestamp out of range"); a billion failed at
    # start with a bare OverflowError.
    monkeypatch.setenv("ATHENAEUM_NOTIFICATIONS_KEPT_DAYS", days)
    with pytest.raises(ValidationError, match="notifications_kept_days"):
        NotificationsSettings()
