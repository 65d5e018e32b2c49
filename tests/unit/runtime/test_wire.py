"""Proto helpers shared by every service: timestamps by arithmetic agree with protobuf's own conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.support.runtime.wire import timestamp, to_datetime

MOMENTS = [
    datetime(2026, 12, 3, 7, 1, 2, 345_678, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),  # before the epoch: negative seconds, positive nanos
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=3))),  # another offset: the same instant
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_timestamp_is_what_protobuf_makes_of_the_same_moment(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment)
    assert timestamp(moment) == expected
    assert to_datetime(timestamp(moment)) == moment  # type: ignore[arg-type]


def test_a_naive_moment_is_taken_as_utc_and_none_stays_unset() -> None:
    assert timestamp(datetime(2026, 1, 2, 3, 4, 5)) == timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert timestamp(None) is None
