"""The service as deployed reads the library's time zone from ATHENAEUM_LIBRARY_TIME_ZONE (the setting loans
reads) and words a reader's dates in it when the reader chose none; a misspelt zone stops it at start."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from notifications_harness import Notifications, loan_event

from athenaeum.loans.v1 import events_pb2 as loans
from services.support.launcher.processes import ProcessFailed

NEW_YORK = ZoneInfo("America/New_York")


def _end_of_a_new_york_day_in_two_days() -> datetime:
    day = datetime.now(NEW_YORK).date() + timedelta(days=2)
    return datetime.combine(day, time(23, 59, 59), tzinfo=NEW_YORK).astimezone(UTC)


async def test_a_reader_without_a_time_zone_is_told_the_due_date_of_the_library_day(
    notifications: Notifications,
) -> None:
    notifications.environment["ATHENAEUM_LIBRARY_TIME_ZONE"] = "America/New_York"
    notifications.processes or notifications.start("n1")
    patron = await notifications.register()  # no time zone, as the API registers readers
    due = _end_of_a_new_york_day_in_two_days()
    await notifications.publish("loans", loan_event(loans.LoanDueSoon, patron, loan="loans/ny1", step=1, due=due))
    await notifications.eventually(lambda: notifications.count(kind="due_soon", recipient=patron), lambda n: n >= 1)
    (row,) = await notifications.rows(kind="due_soon", address=patron.email)
    local = due.astimezone(NEW_YORK)
    said = f"{local:%A}, {local.day} {local:%B %Y}, 23:59 {local.tzname()}"
    assert said in row.body, row.body
    assert "UTC" not in row.body


async def test_a_library_time_zone_that_is_no_place_stops_the_service_at_start(
    notifications: Notifications,
) -> None:
    misspelt = dataclasses.replace(
        notifications, environment={**notifications.environment, "ATHENAEUM_LIBRARY_TIME_ZONE": "America/New_Yrok"}
    )
    with pytest.raises(ProcessFailed, match=r"ATHENAEUM_LIBRARY_TIME_ZONE: the value is not an IANA"):
        misspelt.start("n-misspelt")
