"""The activity log through the real edge: recording, aggregation over REST, and precise refusals (the audit
trail of real actions: test_audit_trail_through_the_edge.py; WatchEvents: test_event_watches_through_the_edge.py)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.e2e


def now_stamp() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def list_events(edge: httpx.Client, staff, query: str) -> list[dict]:
    response = edge.get("/v1/events", params={"filter": query, "page_size": 200}, headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def wait_for(edge: httpx.Client, staff, query: str, types: set[str], timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = list_events(edge, staff, query)
        if types <= {event["type"].rsplit(".", 1)[-1] for event in found} or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def record(stub, staff, events: list[events_pb2.Event], **kwargs) -> events_pb2.BatchRecordEventsResponse:
    return stub.BatchRecordEvents(
        events_pb2.BatchRecordEventsRequest(events=events, **kwargs), metadata=staff.metadata, timeout=10
    )


def test_recorded_activity_is_stored_and_counted_per_minute_over_rest(mesh, edge, librarian, reader) -> None:
    kind = f"test.edge{uuid.uuid4().hex[:8]}"
    moment = datetime.now(UTC)
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        events = [
            events_pb2.Event(type=kind, occur_time=timestamp(moment), subject=f"books/b{i % 3}") for i in range(300)
        ]
        assert record(stub, librarian, events, request_id=str(uuid.uuid4())).accepted_count == 300
    one = edge.post(
        "/v1/events",
        json={"type": kind, "occur_time": now_stamp(), "attributes": {"q": "Гоголь"}},
        headers=reader.headers,
    )
    assert one.status_code == 200, one.text
    assert one.json()["actor"] == reader.name and one.json()["name"].startswith("events/")
    params = {
        "start_time": (moment - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "end_time": (moment + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "interval": "AGGREGATION_INTERVAL_MINUTE",
        "group_by": "subject",
        "filter": f'type = "{kind}"',
    }
    deadline = time.monotonic() + 20
    while True:
        counted = edge.get("/v1/events:aggregate", params=params, headers=librarian.headers)
        assert counted.status_code == 200, counted.text
        if int(counted.json()["total_count"]) >= 301 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    body = counted.json()
    assert int(body["total_count"]) == 301
    assert sorted(int(c["count"]) for c in body["counts"]) == [1, 100, 100, 100]
    got = edge.get(f"/v1/{one.json()['name']}", headers=librarian.headers)
    assert got.status_code == 200 and got.json()["attributes"] == {"q": "Гоголь"}
    assert edge.get(f"/v1/{one.json()['name']}", headers=reader.headers).status_code == 403


def test_days_are_counted_from_midnight_in_the_time_zone_asked_for(edge, librarian) -> None:
    """A dashboard in New York counted a loan at 20:00 on the next day: days were UTC days only."""
    kind = f"test.days{uuid.uuid4().hex[:8]}"
    recorded = edge.post("/v1/events", json={"type": kind, "occur_time": now_stamp()}, headers=librarian.headers)
    assert recorded.status_code == 200, recorded.text
    now = datetime.now(UTC)
    params = {
        "start_time": (now - timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        "end_time": (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "interval": "AGGREGATION_INTERVAL_DAY",
        "filter": f'type = "{kind}"',
    }
    for zone, midnight in (("Pacific/Kiritimati", "T10:00:00Z"), ("Asia/Kathmandu", "T18:15:00Z"), ("", "T00:00:00Z")):
        deadline = time.monotonic() + 20
        while True:  # stored asynchronously: accepted, journaled, then stored
            counted = edge.get("/v1/events:aggregate", params={**params, "time_zone": zone}, headers=librarian.headers)
            assert counted.status_code == 200, counted.text
            if counted.json().get("counts") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        (day,) = [c["start_time"] for c in counted.json()["counts"]]
        assert day.endswith(midnight), (zone, day)
    refused = edge.get("/v1/events:aggregate", params={**params, "time_zone": "Mars/Base"}, headers=librarian.headers)
    assert refused.status_code == 400, refused.text
    violations = next(d for d in refused.json()["details"] if d["@type"].endswith("BadRequest"))["field_violations"]
    assert [v["field"] for v in violations] == ["time_zone"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "NOT A TYPE", "occur_time": now_stamp()}, "event.type"),
        ({"type": "web.search"}, "event.occur_time"),
        ({"type": "web.search", "occur_time": "1969-12-31T00:00:00Z"}, "event.occur_time"),
        ({"type": "web.search", "occur_time": "2999-01-01T00:00:00Z"}, "event.occur_time"),
        # Older than the ACTIVITY retention window (90 days): it would only be dropped, or kept past it.
        ({"type": "web.search", "occur_time": "2026-01-01T00:00:00Z"}, "event.occur_time"),
        (
            {"type": "web.search", "occur_time": now_stamp(), "attributes": {"k": "\u0000"}},
            "event.attributes['k']",
        ),
        ({"type": "web.search", "occur_time": now_stamp(), "name": "events/../../etc"}, "event.name"),
    ],
)
def test_a_bad_event_is_a_400_naming_the_field(edge, reader, body: dict, field: str) -> None:
    response = edge.post("/v1/events", json=body, headers=reader.headers)
    assert response.status_code == 400, response.text
    violations = next(d for d in response.json()["details"] if d["@type"].endswith("BadRequest"))["field_violations"]
    assert [v["field"] for v in violations] == [field]


def test_no_client_records_the_mesh_s_own_types_into_the_admins_dashboard(edge, reader, librarian) -> None:
    forged = {"type": "athenaeum.loans.loan_issued", "occur_time": now_stamp(),
              "attributes": {"loan.book_title": "Buy at evil.example"}}  # fmt: skip
    for caller in (reader, librarian):
        refused = edge.post("/v1/events", json=forged, headers=caller.headers)
        assert refused.status_code == 403 and refused.json()["details"][0]["reason"] == "MESH_EVENT_TYPE"


def test_a_reader_may_not_record_audit_events_or_list_the_log(edge, reader) -> None:
    audit = {"type": "web.search", "occur_time": now_stamp(), "category": "EVENT_CATEGORY_AUDIT"}
    assert edge.post("/v1/events", json=audit, headers=reader.headers).status_code == 403
    assert edge.get("/v1/events", headers=reader.headers).status_code == 403
    assert edge.post("/v1/events", json=audit).status_code == 401


@pytest.mark.parametrize(
    ("forged", "reason"),
    [({"actor": "admin"}, "NOT_YOUR_AUDIT"), ({"actor": "services/loans"}, "NOT_YOUR_AUDIT"),
     ({"source": "loans"}, "MESH_EVENT_SOURCE"), ({"occur_time": "1970-01-01T00:00:01Z"}, "AUDIT_NOT_NOW"),
     ({"trace_id": "4ac50cba2c2ac70dd41aa9bbf487bf89"}, "NOT_YOUR_TRACE"),
     ({"name": "events/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"}, "AUDIT_NAME_IS_MINTED"),
     ({"type": "athenaeum_loans.fine_assessed"}, "MESH_EVENT_TYPE")],
)  # fmt: skip
def test_a_librarian_records_audit_events_in_their_own_name_only(edge, librarian, admin, forged, reason) -> None:
    event = {"type": "desk.fine_waived", "occur_time": now_stamp(), "category": "EVENT_CATEGORY_AUDIT"}
    forged = {key: admin.name if value == "admin" else value for key, value in forged.items()}
    refused = edge.post("/v1/events", json={**event, **forged}, headers=librarian.headers)
    assert refused.status_code == 403 and refused.json()["details"][0]["reason"] == reason, refused.text
    recorded = edge.post("/v1/events", json={**event, "source": "desk"}, headers=librarian.headers)
    assert recorded.status_code == 200 and recorded.json()["actor"] == librarian.name, recorded.text
    assert recorded.json()["trace_id"] not in ("", forged.get("trace_id")), recorded.text  # the call's own


def test_a_batch_with_a_repeated_name_names_its_index_and_accepts_nothing(mesh, librarian) -> None:
    name = f"events/{uuid.uuid4()}"
    stamp = timestamp(datetime.now(UTC))
    events = [events_pb2.Event(name=name, type="test.dup", occur_time=stamp)] * 2
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel, pytest.raises(grpc.RpcError) as refused:
        record(events_pb2_grpc.EventsServiceStub(channel), librarian, events)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "events[1].name" in refused.value.details()


def test_users_me_as_the_actor_is_the_caller(edge, librarian) -> None:
    """It matched nothing, as if the caller had done nothing; the rest of the API reads it as the caller."""
    kind = f"desk.me_{uuid.uuid4().hex[:8]}"
    event = {"type": kind, "occur_time": now_stamp()}
    assert edge.post("/v1/events", json=event, headers=librarian.headers).status_code == 200
    deadline = time.monotonic() + 20
    while not (mine := list_events_by(edge, librarian, actor="users/me", type=kind)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [e["actor"] for e in mine] == [librarian.name]


def list_events_by(edge: httpx.Client, staff, **params: str) -> list[dict]:
    response = edge.get("/v1/events", params=params, headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()["events"]
