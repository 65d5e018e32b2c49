"""Holds through the real edge and mesh: a copy on the open shelf goes on the pull list (IN_TRANSIT), a copy
returned at another branch is sent to the pickup branch, and the hold is READY (the reader told) only once the
pickup desk receives the copy (POST /v1/holds:receive)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from circulation import copies_of, lend, new_book, reason, receive

pytestmark = pytest.mark.e2e


def _hold(edge: httpx.Client, patron: Any, book: str, pickup_branch: str) -> dict[str, Any]:
    wanted = {"patron": patron.name, "book": book, "pickup_branch": pickup_branch}
    placed = edge.post("/v1/holds", json=wanted, headers=patron.headers)
    assert placed.status_code == 200, placed.text
    hold: dict[str, Any] = placed.json()
    return hold


def _ready_notices(edge: httpx.Client, patron: Any, hold: str) -> list[dict[str, Any]]:
    found = edge.get(f"/v1/{patron.name}/notifications", params={"kind": "hold_ready"}, headers=patron.headers)
    assert found.status_code == 200, found.text
    return [n for n in found.json().get("notifications", []) if n.get("about", hold) == hold]


def _until_told(edge: httpx.Client, patron: Any, hold: str, seconds: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while not (notices := _ready_notices(edge, patron, hold)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return notices


def _scan(edge: httpx.Client, staff: Any, barcode: str, branch: str) -> httpx.Response:
    return edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": branch}, headers=staff.headers)


def test_a_hold_on_a_copy_on_the_open_shelf_is_ready_only_once_received_at_its_pickup_branch(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    hold = _hold(edge, patron, book, "EAST")
    copy = copies_of(edge, librarian, book)[barcode]
    assert (hold["status"], hold["copy"], hold.get("expire_time")) == ("HOLD_STATUS_IN_TRANSIT", copy["name"], None)
    assert (copy["status"], copy["current_hold"]) == ("COPY_STATUS_IN_TRANSIT", hold["name"])
    assert edge.get(f"/v1/{book}", headers=librarian.headers).json().get("available_copies", 0) == 0
    assert hold.get("to_pull") is True  # on its branch's open shelf: on the pull list there

    pulled = _scan(edge, librarian, barcode, "MAIN")  # pulled at MAIN: the desk sends it on to EAST
    assert pulled.status_code == 200, pulled.text
    assert (pulled.json()["status"], pulled.json()["pickup_branch"]) == ("HOLD_STATUS_IN_TRANSIT", "EAST")
    assert not pulled.json().get("to_pull")  # pulled and sent on: on its way to EAST, off MAIN's pull list
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_IN_TRANSIT"
    assert _ready_notices(edge, patron, hold["name"]) == []

    received = _scan(edge, librarian, barcode, "east")
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "HOLD_STATUS_READY" and received.json()["expire_time"]
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_ON_HOLD_SHELF"
    assert len(_until_told(edge, patron, hold["name"])) >= 1, "the ready hold was not told"
    assert _scan(edge, librarian, barcode, "EAST").json()["status"] == "HOLD_STATUS_READY"  # a second scan


def test_a_copy_returned_at_another_branch_is_sent_to_the_pickup_branch_and_ready_there(
    edge: httpx.Client, librarian, new_reader
) -> None:
    borrower, patron = new_reader(), new_reader()
    book, (barcode,) = new_book(edge, librarian)
    lend(edge, librarian, borrower.name, barcode=barcode)
    hold = _hold(edge, patron, book, "EAST")
    assert hold["status"] == "HOLD_STATUS_WAITING"
    returned = edge.post("/v1/loans:return", json={"barcode": barcode, "branch": "MAIN"}, headers=librarian.headers)
    assert returned.status_code == 200, returned.text
    assert (returned.json()["trapped_hold"], returned.json()["transit_branch"]) == (hold["name"], "EAST")
    sent = edge.get(f"/v1/{hold['name']}", headers=patron.headers).json()
    assert sent["status"] == "HOLD_STATUS_IN_TRANSIT" and not sent.get("to_pull")  # sent, not to pull
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_IN_TRANSIT"
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"  # at EAST
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_ON_HOLD_SHELF"
    collected = edge.post("/v1/loans:issue", json={"patron": patron.name, "book": book}, headers=librarian.headers)
    assert collected.status_code == 200, collected.text


def test_cancelling_a_hold_in_transit_puts_its_copy_back_on_the_shelf(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    hold = _hold(edge, patron, book, "")
    cancelled = edge.post(f"/v1/{hold['name']}:cancel", json={}, headers=patron.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "HOLD_STATUS_CANCELLED", cancelled.text
    copy = copies_of(edge, librarian, book)[barcode]
    assert (copy["status"], copy.get("current_hold", "")) == ("COPY_STATUS_AVAILABLE", "")


def test_receiving_is_for_staff_and_refuses_a_copy_set_aside_for_no_hold(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (held, free) = new_book(edge, librarian, copies=2)
    hold = _hold(edge, patron, book, "")
    held, free = (
        (held, free) if copies_of(edge, librarian, book)[held]["status"] != "COPY_STATUS_AVAILABLE" else (free, held)
    )
    assert _scan(edge, patron, held, "").status_code == 403  # a reader
    refused = _scan(edge, librarian, free, "")
    assert refused.status_code == 400 and reason(refused) == "COPY_NOT_HELD", refused.text
    unknown = _scan(edge, librarian, "NO-SUCH-LABEL", "")
    assert unknown.status_code == 404 and reason(unknown) == "BARCODE_NOT_FOUND", unknown.text
    assert _scan(edge, librarian, "", "").status_code == 400
    received = _scan(edge, librarian, held, "")  # no pickup branch: received anywhere
    assert received.status_code == 200 and received.json()["name"] == hold["name"], received.text
    assert received.json()["status"] == "HOLD_STATUS_READY"


def test_a_hold_with_no_pickup_branch_waits_at_the_branch_of_the_desk_that_received_it(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    hold = _hold(edge, patron, book, "")
    received = _scan(edge, librarian, barcode, " WEST ")
    assert received.status_code == 200, received.text
    assert (received.json()["status"], received.json()["pickup_branch"]) == ("HOLD_STATUS_READY", "WEST")
    assert edge.get(f"/v1/{hold['name']}", headers=patron.headers).json()["pickup_branch"] == "WEST"
    notices = _until_told(edge, patron, hold["name"])
    assert notices and any("WEST" in json.dumps(notice) for notice in notices), notices


def _audit_types(edge: httpx.Client, staff: Any, hold: str, wanted: set[str]) -> set[str]:
    """The loans event types the audit trail has for the hold, once it has `wanted` (or after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        found = edge.get(
            "/v1/events", params={"filter": f'resource = "{hold}"', "page_size": 200}, headers=staff.headers
        )
        assert found.status_code == 200, found.text
        types = {event["type"].rsplit(".", 1)[-1] for event in found.json().get("events", [])}
        if wanted <= types or time.monotonic() > deadline:
            return types
        time.sleep(0.2)


def test_a_copy_missing_from_the_shelf_is_lost_and_the_hold_gets_another_copy_audited(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, barcodes = new_book(edge, librarian, copies=2)
    hold = _hold(edge, patron, book, "MAIN")
    path = f"/v1/{hold['name']}:reportCopyMissing"
    refused = edge.post(path, json={"copy": hold["copy"]}, headers=patron.headers)
    assert refused.status_code == 403, refused.text
    reported = edge.post(path, json={"copy": hold["copy"]}, headers=librarian.headers)
    assert reported.status_code == 200, reported.text
    answer = reported.json()
    assert answer["status"] == "HOLD_STATUS_IN_TRANSIT" and answer["copy"] not in ("", hold["copy"])
    copies = {copy["name"]: copy for copy in copies_of(edge, librarian, book).values()}
    assert copies[hold["copy"]]["status"] == "COPY_STATUS_LOST" and not copies[hold["copy"]].get("current_hold")
    assert copies[answer["copy"]]["current_hold"] == hold["name"] and len(copies) == len(barcodes)
    again = edge.post(path, json={"copy": hold["copy"]}, headers=librarian.headers)  # the old copy: no longer its
    assert again.status_code == 400 and reason(again) == "HOLD_NOT_IN_TRANSIT", again.text
    types = _audit_types(edge, librarian, hold["name"], {"hold_copy_missing", "hold_in_transit"})
    assert {"hold_placed", "hold_in_transit", "hold_copy_missing"} <= types, types


def test_missing_on_a_stale_pull_list_row_is_refused_once_another_desk_sent_the_copy_on(
    edge: httpx.Client, librarian, new_reader
) -> None:
    """Finding D15: the row's etag, read before another desk found the copy and sent it on, reports nothing."""
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    row = _hold(edge, patron, book, "EAST")
    assert row["etag"] and _scan(edge, librarian, barcode, "MAIN").status_code == 200  # found, sent to EAST
    path = f"/v1/{row['name']}:reportCopyMissing"
    stale = edge.post(path, json={"copy": row["copy"], "etag": row["etag"]}, headers=librarian.headers)
    assert stale.status_code == 409 and reason(stale) == "STALE_ETAG", stale.text
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_IN_TRANSIT"
    now = edge.get(f"/v1/{row['name']}", headers=librarian.headers).json()
    reported = edge.post(path, json={"copy": now["copy"], "etag": now["etag"]}, headers=librarian.headers)
    assert reported.status_code == 200 and reported.json()["status"] == "HOLD_STATUS_WAITING", reported.text
