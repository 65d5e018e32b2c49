"""ListHolds for the desk lists through the edge (F2 of the scale findings): a branch's hold shelf by pickup
deadline and its pull list, one call a page, each hold with what its row shows (title, barcode, the patron's name
and card for staff only); a bad filter or order is INVALID_ARGUMENT."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from circulation import copies_of, new_book, receive

pytestmark = pytest.mark.e2e


def _holds(edge: httpx.Client, account: Any, **query: Any) -> httpx.Response:
    return edge.get("/v1/holds", params={"page_size": 100, **query}, headers=account.headers)


def _hold(edge: httpx.Client, patron: Any, book: str, branch: str) -> dict[str, Any]:
    placed = edge.post(
        "/v1/holds", json={"patron": patron.name, "book": book, "pickup_branch": branch}, headers=patron.headers
    )
    assert placed.status_code == 200, placed.text
    return dict(placed.json())


def test_a_branch_hold_shelf_and_pull_list_come_in_one_call_with_what_their_rows_show(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron, other = new_reader(), new_reader()
    book, _ = new_book(edge, librarian, copies=0)
    barcode = f"DL-{uuid.uuid4().hex[:12]}"
    added = edge.post(f"/v1/{book}/copies", json={"barcode": barcode, "branch": "EAST"}, headers=librarian.headers)
    assert added.status_code == 200, added.text
    other_book, _ = new_book(edge, librarian)
    hold = _hold(edge, patron, book, "EAST")
    elsewhere = _hold(edge, other, other_book, "MAIN")
    copy = copies_of(edge, librarian, book)[barcode]
    assert (hold["barcode"], hold["copy_branch"]) == (barcode, copy["branch"])
    assert hold["book_title"].startswith("Retries ")

    pulled = _holds(edge, librarian, status="HOLD_STATUS_IN_TRANSIT", filter="pull_branch = east")
    assert pulled.status_code == 200, pulled.text
    assert hold["name"] in [h["name"] for h in pulled.json()["holds"]]

    receive(edge, librarian, hold["name"])
    receive(edge, librarian, elsewhere["name"])
    shelf = _holds(edge, librarian, status="HOLD_STATUS_READY", filter='pickup_branch = "east"', order_by="expire_time")
    assert shelf.status_code == 200, shelf.text
    listed = {h["name"]: h for h in shelf.json()["holds"]}
    assert elsewhere["name"] not in listed  # MAIN's shelf, not EAST's
    mine = listed[hold["name"]]
    assert (mine["barcode"], mine["book_title"]) == (barcode, hold["book_title"])
    user = edge.get(f"/v1/{patron.name}", headers=librarian.headers).json()
    assert (mine.get("patron_card_number"), mine.get("patron_display_name", "")) == (
        user["card_number"],
        user.get("display_name", ""),
    )
    deadlines = [h["expire_time"] for h in shelf.json()["holds"]]
    assert deadlines == sorted(deadlines)

    own = _holds(edge, patron, parent=patron.name)
    assert own.status_code == 200, own.text
    (seen,) = [h for h in own.json()["holds"] if h["name"] == hold["name"]]
    assert not seen.get("patron_card_number") and not seen.get("patron_display_name")  # staff answers only


@pytest.mark.parametrize(
    "query",
    [
        {"filter": "status = READY"},
        {"filter": "pickup_branch = EAST OR pickup_branch = WEST"},
        {"filter": "pickup_branch = 'EAST"},  # only looks quoted: it matched nothing, silently
        {"order_by": "title"},
    ],
)
def test_a_bad_hold_filter_or_order_is_refused(edge: httpx.Client, librarian, query: dict[str, str]) -> None:
    refused = _holds(edge, librarian, **query)
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == 3  # INVALID_ARGUMENT


def test_the_pull_list_shows_a_held_copy_where_a_cataloguer_moved_it(edge: httpx.Client, librarian, new_reader) -> None:
    """F9 of the integrator's findings: the pull list kept the shelf the copy had when it was set aside."""
    patron = new_reader()
    book, _ = new_book(edge, librarian, copies=0)
    barcode = f"MV-{uuid.uuid4().hex[:12]}"
    added = edge.post(
        f"/v1/{book}/copies",
        json={"barcode": barcode, "branch": "EAST", "call_number": "OLD 2", "shelf_location": "Shelf A"},
        headers=librarian.headers,
    )
    assert added.status_code == 200, added.text
    hold = _hold(edge, patron, book, "MAIN")
    assert (hold["call_number"], hold["shelf_location"]) == ("OLD 2", "Shelf A")
    moved = edge.patch(
        f"/v1/{added.json()['name']}",
        params={"update_mask": "call_number,shelf_location"},
        json={"call_number": "NEW 2", "shelf_location": "Shelf Z"},
        headers=librarian.headers,
    )
    assert moved.status_code == 200, moved.text
    deadline, row = time.monotonic() + 15, {}
    while time.monotonic() < deadline:
        pulled = _holds(edge, librarian, status="HOLD_STATUS_IN_TRANSIT", filter="pull_branch = 'east'")
        assert pulled.status_code == 200, pulled.text
        row = next(h for h in pulled.json()["holds"] if h["name"] == hold["name"])  # single quotes read (F7)
        if row["shelf_location"] == "Shelf Z":
            break
        time.sleep(0.2)
    assert (row["call_number"], row["shelf_location"]) == ("NEW 2", "Shelf Z")
