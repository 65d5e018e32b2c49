"""A reader's recording budget through the edge: batches of a thousand events cost a reader what one event
did (the edge counts requests), and one free account flooded the events service for everyone."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from services.events.settings import EventsSettings

pytestmark = pytest.mark.e2e
BURST = EventsSettings.model_fields["reader_events_burst"].default


def _batch(count: int) -> dict:
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"events": [{"type": "web.budget", "occur_time": stamp, "attributes": {"n": str(n)}} for n in range(count)]}


def test_a_reader_records_a_burst_then_is_told_when_to_retry_and_staff_are_not_counted(
    edge: httpx.Client, new_reader, librarian
) -> None:
    reader = new_reader()
    first = edge.post("/v1/events:batchRecord", json=_batch(BURST), headers=reader.headers, timeout=30)
    assert first.status_code == 200, first.text
    again = edge.post("/v1/events:batchRecord", json=_batch(BURST), headers=reader.headers, timeout=30)
    assert again.status_code == 429 and int(again.headers["retry-after"]) >= 1, again.text
    assert again.json()["details"][0]["reason"] == "RECORDING_BUDGET"
    for _ in range(2):
        staff = edge.post("/v1/events:batchRecord", json=_batch(BURST), headers=librarian.headers, timeout=30)
        assert staff.status_code == 200, staff.text
