"""UpdateHold through the real edge (PATCH /v1/holds/{id}?update_mask=pickup_branch): a reader moves their waiting
hold to another of the library's branches and keeps their place in the queue, the change is on the audit trail in
their name; another reader, a branch the library does not list, a stale etag and a hold whose copy is set aside
are refused, each in its own words."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from circulation import new_book, reason

pytestmark = pytest.mark.e2e


def _hold(edge: httpx.Client, patron: Any, book: str, pickup_branch: str) -> dict[str, Any]:
    wanted = {"patron": patron.name, "book": book, "pickup_branch": pickup_branch}
    placed = edge.post("/v1/holds", json=wanted, headers=patron.headers)
    assert placed.status_code == 200, placed.text
    hold: dict[str, Any] = placed.json()
    return hold


def _move(edge: httpx.Client, who: Any, hold: dict[str, Any], branch: str, **more: str) -> httpx.Response:
    body = {"pickup_branch": branch, **more}
    return edge.patch(f"/v1/{hold['name']}", params={"update_mask": "pickup_branch"}, json=body, headers=who.headers)


def _audit(edge: httpx.Client, staff: Any, hold: str, wanted: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        found = edge.get("/v1/events", params={"filter": f'resource = "{hold}"'}, headers=staff.headers)
        assert found.status_code == 200, found.text
        events = [event for event in found.json().get("events", []) if event["type"].endswith(f".{wanted}")]
        if events or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_a_reader_moves_their_waiting_hold_to_another_branch_and_keeps_their_place(
    edge: httpx.Client, librarian, new_reader
) -> None:
    first, second, third = new_reader(), new_reader(), new_reader()
    book, _ = new_book(edge, librarian)
    _hold(edge, first, book, "MAIN")  # the copy is set aside for it
    waiting = _hold(edge, second, book, "MAIN")
    behind = _hold(edge, third, book, "MAIN")
    assert (waiting["status"], waiting["queue_position"]) == ("HOLD_STATUS_WAITING", 1)
    moved = _move(edge, second, waiting, "east", etag=waiting["etag"])  # kept in the list's spelling
    assert moved.status_code == 200, moved.text
    answer = moved.json()
    assert (answer["pickup_branch"], answer["status"], answer["queue_position"]) == ("EAST", "HOLD_STATUS_WAITING", 1)
    assert answer["etag"] != waiting["etag"]
    assert edge.get(f"/v1/{behind['name']}", headers=third.headers).json()["queue_position"] == 2
    same = _move(edge, second, waiting, "East")
    assert same.status_code == 200 and same.json()["etag"] == answer["etag"], same.text  # nothing changed
    (changed,) = _audit(edge, librarian, waiting["name"], "hold_pickup_branch_changed")
    assert changed["actor"] == second.name, changed
    assert changed["attributes"]["previous_pickup_branch"] == "MAIN", changed
    by_staff = _move(edge, librarian, waiting, "WEST", etag=answer["etag"])
    assert by_staff.status_code == 200 and by_staff.json()["pickup_branch"] == "WEST", by_staff.text


def test_another_reader_an_unlisted_branch_a_stale_etag_and_a_copy_set_aside_are_refused(
    edge: httpx.Client, librarian, new_reader
) -> None:
    first, second = new_reader(), new_reader()
    book, _ = new_book(edge, librarian)
    set_aside = _hold(edge, first, book, "MAIN")
    waiting = _hold(edge, second, book, "MAIN")
    assert _move(edge, first, waiting, "EAST").status_code == 403
    unlisted = _move(edge, second, waiting, "SOUTH")
    assert unlisted.status_code == 400 and "hold.pickup_branch" in unlisted.text, unlisted.text
    assert _move(edge, second, waiting, "EAST").status_code == 200
    stale = _move(edge, second, waiting, "WEST", etag=waiting["etag"])
    assert stale.status_code == 409 and reason(stale) == "STALE_ETAG", stale.text
    fixed = _move(edge, first, set_aside, "EAST")
    assert set_aside["status"] == "HOLD_STATUS_IN_TRANSIT"
    assert fixed.status_code == 400 and reason(fixed) == "HOLD_COPY_SET_ASIDE", fixed.text
    path, mask = f"/v1/{waiting['name']}", {"update_mask": "status"}
    bad_mask = edge.patch(path, params=mask, json={"pickup_branch": "EAST"}, headers=second.headers)
    assert bad_mask.status_code == 400 and "update_mask" in bad_mask.text, bad_mask.text
    read = edge.get(f"/v1/{waiting['name']}", headers=second.headers).json()
    assert read["pickup_branch"] == "EAST", read


def _pickup_notices(edge: httpx.Client, reader: Any, *, seconds: float) -> list[dict[str, Any]]:
    """The reader's hold_pickup_changed notices, once there are some (or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        query = {"kind": "hold_pickup_changed"}
        found = edge.get(f"/v1/{reader.name}/notifications", params=query, headers=reader.headers)
        assert found.status_code == 200, found.text
        notices: list[dict[str, Any]] = found.json().get("notifications", [])
        if notices or time.monotonic() > deadline:
            return notices
        time.sleep(0.2)


def test_the_reader_is_told_when_the_desk_moves_their_hold_and_not_of_their_own_move(
    edge: httpx.Client, librarian, new_reader
) -> None:
    first, second = new_reader(), new_reader()
    book, _ = new_book(edge, librarian)
    _hold(edge, first, book, "MAIN")  # the copy is set aside for it
    waiting = _hold(edge, second, book, "MAIN")
    assert _move(edge, second, waiting, "EAST").status_code == 200  # their own choice: nothing to tell
    by_staff = _move(edge, librarian, waiting, "WEST")
    assert by_staff.status_code == 200, by_staff.text
    notices = _pickup_notices(edge, second, seconds=15)
    assert notices, "the reader was not told the desk moved their hold"
    # The loans events reach notifications in order: the reader's own move, handled first, told nothing.
    assert {(n["params"]["branch"], n["params"]["previous_branch"]) for n in notices} == {("WEST", "EAST")}
