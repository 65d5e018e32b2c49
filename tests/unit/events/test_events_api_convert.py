"""What identifies a batch under its request_id: its events, not the id's spelling, and the request is left whole."""

from __future__ import annotations

from athenaeum.events.v1 import events_pb2
from services.events.api.convert import batch_content


def test_a_batch_s_content_leaves_out_its_request_id_and_the_request_as_it_was() -> None:
    events = [events_pb2.Event(type="web.search", attributes={"q": "war", "page": "2"})]
    lower = events_pb2.BatchRecordEventsRequest(events=events, request_id="6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11")
    upper = events_pb2.StreamRecordEventsRequest(events=events, request_id=lower.request_id.upper())
    assert batch_content(lower) == batch_content(upper)
    assert lower.request_id == "6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11" and len(lower.events) == 1
    other = events_pb2.BatchRecordEventsRequest(events=[events_pb2.Event(type="web.search")])
    assert batch_content(other) != batch_content(lower)
