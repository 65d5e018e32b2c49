"""Through the real edge and mesh: staff take a damaged copy off the hold shelf while readers queue (the hold goes
back to its place, the copy DAMAGED, audited; finding B1), and a copy left on another branch's hold shelf is sent
home, listed there, and available once its own branch receives it (finding B2). The reader of a READY hold
whose copy is taken out of circulation is told, once, that it is back in the queue."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from circulation import copies_of, new_book, reason, receive

pytestmark = pytest.mark.e2e


def _hold(edge: httpx.Client, patron: Any, book: str, pickup_branch: str) -> dict[str, Any]:
    wanted = {"patron": patron.name, "book": book, "pickup_branch": pickup_branch}
    placed = edge.post("/v1/holds", json=wanted, headers=patron.headers)
    assert placed.status_code == 200, placed.text
    hold: dict[str, Any] = placed.json()
    return hold


def _at_main(edge: httpx.Client, staff: Any, copy: dict[str, Any]) -> None:
    moved = edge.patch(
        f"/v1/{copy['name']}", params={"update_mask": "branch"}, json={"branch": "MAIN"}, headers=staff.headers
    )
    assert moved.status_code == 200, moved.text


def _audit_types(edge: httpx.Client, staff: Any, hold: str, wanted: set[str]) -> set[str]:
    deadline = time.monotonic() + 15
    while True:
        found = edge.get("/v1/events", params={"filter": f'resource = "{hold}"'}, headers=staff.headers)
        assert found.status_code == 200, found.text
        types = {event["type"].rsplit(".", 1)[-1] for event in found.json().get("events", [])}
        if wanted <= types or time.monotonic() > deadline:
            return types
        time.sleep(0.2)


def test_a_damaged_copy_on_the_hold_shelf_leaves_circulation_and_its_hold_goes_back_to_the_queue(
    edge: httpx.Client, librarian, new_reader
) -> None:
    first, second = new_reader(), new_reader()
    book, (barcode,) = new_book(edge, librarian)
    hold = _hold(edge, first, book, "MAIN")
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"
    behind = _hold(edge, second, book, "MAIN")
    copy = copies_of(edge, librarian, book)[barcode]
    patched = edge.patch(
        f"/v1/{copy['name']}",
        params={"update_mask": "status"},
        json={"status": "COPY_STATUS_DAMAGED"},
        headers=librarian.headers,
    )
    assert patched.status_code == 400 and reason(patched) == "COPY_IN_CIRCULATION", patched.text
    body = {"copy": copy["name"], "copy_status": "HELD_COPY_STATUS_DAMAGED", "request_id": str(uuid.uuid4())}
    path = f"/v1/{hold['name']}:reportCopyMissing"
    taken_out = edge.post(path, json=body, headers=librarian.headers)
    assert taken_out.status_code == 200, taken_out.text
    retried = edge.post(path, json=body, headers=librarian.headers)
    assert retried.status_code == 200 and retried.json()["status"] == "HOLD_STATUS_WAITING", retried.text
    answer = taken_out.json()
    assert (answer["status"], answer.get("copy", ""), answer.get("expire_time")) == ("HOLD_STATUS_WAITING", "", None)
    read = edge.get(f"/v1/{hold['name']}", headers=librarian.headers).json()
    assert answer["queue_position"] == read["queue_position"] == 1  # its place kept, ahead of the reader behind it
    after = copies_of(edge, librarian, book)[barcode]
    assert (after["status"], after.get("current_hold", "")) == ("COPY_STATUS_DAMAGED", "")
    assert edge.get(f"/v1/{behind['name']}", headers=librarian.headers).json()["status"] == "HOLD_STATUS_WAITING"
    types = _audit_types(edge, librarian, hold["name"], {"hold_copy_missing"})
    assert "hold_copy_missing" in types, types


def _requeued_notices(edge: httpx.Client, reader: Any, *, seconds: float) -> list[dict[str, Any]]:
    """The reader's hold_requeued notices, once there are some (or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        found = edge.get(f"/v1/{reader.name}/notifications", params={"kind": "hold_requeued"}, headers=reader.headers)
        assert found.status_code == 200, found.text
        notices: list[dict[str, Any]] = found.json().get("notifications", [])
        if notices or time.monotonic() > deadline:
            return notices
        time.sleep(0.2)


def test_the_reader_of_a_ready_hold_whose_copy_is_taken_out_of_circulation_is_told_once(
    edge: httpx.Client, librarian, new_reader
) -> None:
    reader = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    hold = _hold(edge, reader, book, "MAIN")
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"  # told "waiting for you"
    copy = copies_of(edge, librarian, book)[barcode]
    body = {"copy": copy["name"], "copy_status": "HELD_COPY_STATUS_DAMAGED", "request_id": str(uuid.uuid4())}
    for _ in range(2):  # the web's retry of the same request
        taken_out = edge.post(f"/v1/{hold['name']}:reportCopyMissing", json=body, headers=librarian.headers)
        assert taken_out.status_code == 200 and taken_out.json()["status"] == "HOLD_STATUS_WAITING", taken_out.text
    notices = _requeued_notices(edge, reader, seconds=15)
    assert notices, "the reader was not told their hold is back in the queue"
    assert {(n["params"]["why"], n["params"]["was_ready"]) for n in notices} == {("damaged", "yes")}
    time.sleep(1)  # anything sent twice would show by now
    again = _requeued_notices(edge, reader, seconds=0)
    channels = [notice["channel"] for notice in again]
    assert len(channels) == len(set(channels)) == len(notices), again  # one per channel, once


def test_a_copy_left_on_another_branchs_hold_shelf_is_sent_home_and_available_once_received_there(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    _at_main(edge, librarian, copies_of(edge, librarian, book)[barcode])
    hold = _hold(edge, patron, book, "EAST")
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"  # on EAST's hold shelf
    cancelled = edge.post(f"/v1/{hold['name']}:cancel", json={}, headers=patron.headers)
    assert cancelled.status_code == 200, cancelled.text
    copy = copies_of(edge, librarian, book)[barcode]
    assert (copy["status"], copy.get("current_hold", ""), copy["sent_home_from"]) == (
        "COPY_STATUS_IN_TRANSIT", "", "EAST"
    )  # fmt: skip
    assert edge.get(f"/v1/{book}", headers=librarian.headers).json().get("available_copies", 0) == 0
    listed = edge.get(
        "/v1/books/-/copies", params={"filter": 'sent_home_from = "EAST"', "page_size": 100}, headers=librarian.headers
    )
    assert listed.status_code == 200 and barcode in {c["barcode"] for c in listed.json()["copies"]}, listed.text
    at_east = edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": "EAST"}, headers=librarian.headers)
    assert at_east.status_code == 400 and reason(at_east) == "COPY_IN_TRANSIT_HOME", at_east.text
    at_main = edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": "MAIN"}, headers=librarian.headers)
    assert at_main.status_code == 400 and reason(at_main) == "COPY_RECEIVED_HOME", at_main.text
    home = copies_of(edge, librarian, book)[barcode]
    assert (home["status"], home.get("sent_home_from", "")) == ("COPY_STATUS_AVAILABLE", "")


def _scan(edge: httpx.Client, staff: Any, barcode: str, branch: str) -> httpx.Response:
    return edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": branch}, headers=staff.headers)


def test_a_copy_waiting_to_be_sent_home_is_trapped_for_a_reader_waiting_where_it_is(
    edge: httpx.Client, librarian, new_reader
) -> None:
    first, later = new_reader(), new_reader()
    book, (barcode,) = new_book(edge, librarian)
    _at_main(edge, librarian, copies_of(edge, librarian, book)[barcode])
    hold = _hold(edge, first, book, "EAST")
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"  # on EAST's hold shelf
    assert edge.post(f"/v1/{hold['name']}:cancel", json={}, headers=first.headers).status_code == 200
    assert copies_of(edge, librarian, book)[barcode]["sent_home_from"] == "EAST"  # to send home to MAIN
    waiting = _hold(edge, later, book, "EAST")
    at_east = _scan(edge, librarian, barcode, "EAST")  # still at EAST: trapped there, not sent to MAIN and back
    assert at_east.status_code == 200, at_east.text
    assert (at_east.json()["name"], at_east.json()["status"]) == (waiting["name"], "HOLD_STATUS_READY")
    copy = copies_of(edge, librarian, book)[barcode]
    assert (copy["status"], copy.get("current_hold"), copy.get("sent_home_from", "")) == (
        "COPY_STATUS_ON_HOLD_SHELF", waiting["name"], ""
    )  # fmt: skip


def test_a_copy_in_the_van_whose_hold_is_cancelled_stays_in_transit_and_goes_home_from_where_it_arrives(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    _at_main(edge, librarian, copies_of(edge, librarian, book)[barcode])
    hold = _hold(edge, patron, book, "EAST")
    sent = _scan(edge, librarian, barcode, "MAIN")  # pulled at MAIN, sent on to EAST
    assert sent.status_code == 200 and sent.json().get("to_pull", False) is False, sent.text
    assert edge.post(f"/v1/{hold['name']}:cancel", json={}, headers=patron.headers).status_code == 200
    copy = copies_of(edge, librarian, book)[barcode]  # in the van, not AVAILABLE on MAIN's shelf
    assert (copy["status"], copy.get("current_hold", ""), copy.get("sent_home_from", "")) == (
        "COPY_STATUS_IN_TRANSIT", "", "EAST"
    )  # fmt: skip
    assert edge.get(f"/v1/{book}", headers=librarian.headers).json().get("available_copies", 0) == 0
    at_east = _scan(edge, librarian, barcode, "EAST")
    assert at_east.status_code == 400 and reason(at_east) == "COPY_IN_TRANSIT_HOME", at_east.text
    at_main = _scan(edge, librarian, barcode, "MAIN")
    assert at_main.status_code == 400 and reason(at_main) == "COPY_RECEIVED_HOME", at_main.text


def test_a_copy_coming_home_handed_in_at_the_desks_return_is_received_home(
    edge: httpx.Client, librarian, new_reader
) -> None:
    """Finding D10: Return at its own branch said "not on loan: nothing to return" and left it in transit."""
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    _at_main(edge, librarian, copies_of(edge, librarian, book)[barcode])
    hold = _hold(edge, patron, book, "EAST")
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"  # on EAST's hold shelf
    assert edge.post(f"/v1/{hold['name']}:cancel", json={}, headers=patron.headers).status_code == 200
    returned = edge.post("/v1/loans:return", json={"barcode": barcode, "branch": "MAIN"}, headers=librarian.headers)
    assert returned.status_code == 400 and reason(returned) == "COPY_RECEIVED_HOME", returned.text
    home = copies_of(edge, librarian, book)[barcode]
    assert (home["status"], home.get("sent_home_from", "")) == ("COPY_STATUS_AVAILABLE", "")
