"""The end of the local day on which an instant falls: where 23:59:59 happens twice, the second; at the calendar's
ends, never before the instant and never past what a Timestamp holds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.support.runtime.clock import LAST_SECOND, end_of_local_day

NEW_YORK, SANTIAGO, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("America/Santiago"), ZoneInfo("Asia/Tokyo")


def test_the_day_is_the_instants_date_in_the_zone() -> None:
    assert end_of_local_day(datetime(2027, 12, 31, tzinfo=UTC), NEW_YORK) == datetime(
        2027, 12, 31, 4, 59, 59, tzinfo=UTC
    )
    assert end_of_local_day(datetime(2027, 12, 31, 5, tzinfo=UTC), NEW_YORK) == datetime(
        2028, 1, 1, 4, 59, 59, tzinfo=UTC
    )
    assert end_of_local_day(datetime(2027, 12, 31, 15, tzinfo=UTC), TOKYO) == datetime(
        2028, 1, 1, 14, 59, 59, tzinfo=UTC
    )


def test_the_end_of_a_day_is_its_own_end() -> None:
    end = end_of_local_day(datetime(2027, 12, 31, tzinfo=UTC), NEW_YORK)
    assert end_of_local_day(end, NEW_YORK) == end


def test_where_the_clocks_go_back_at_midnight_the_day_ends_at_the_second_2359() -> None:
    """Santiago, 2027-04-04 00:00 (UTC-3) back to 2027-04-03 23:00 (UTC-4): 3 April ends at 03:59:59 UTC."""
    assert end_of_local_day(datetime(2027, 4, 3, 15, tzinfo=UTC), SANTIAGO) == datetime(
        2027, 4, 4, 3, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("instant", "zone", "end"),
    [
        (datetime(9999, 12, 31, 12, tzinfo=UTC), NEW_YORK, LAST_SECOND),  # 31 Dec there ends in the year 10000
        (datetime(9999, 12, 31, 20, tzinfo=UTC), TOKYO, LAST_SECOND),  # already 1 Jan 10000 there
        (datetime(1, 1, 1, 1, tzinfo=UTC), NEW_YORK, datetime(1, 1, 1, 1, tzinfo=UTC)),  # still the year 0 there
    ],
)
def test_at_the_calendars_ends_the_end_is_never_before_the_instant_nor_past_the_last_second(
    instant: datetime, zone: ZoneInfo, end: datetime
) -> None:
    assert end_of_local_day(instant, zone) == end
