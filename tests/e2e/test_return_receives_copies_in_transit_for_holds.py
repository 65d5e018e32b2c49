"""Through the real edge and mesh: a copy in transit for a hold scanned at a desk's Return is received as the desk's
Receive would (Koha's and Evergreen's check-in receive it at its destination and send it on elsewhere). It used
to be refused "not on loan" with a hint to scan it again in Receive. The answer, a refusal as there is no loan,
says what was done (COPY_RECEIVED_FOR_HOLD), and a retry with the same request_id is answered the same though
the copy has moved on since."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from circulation import copies_of, new_book, reason

pytestmark = pytest.mark.e2e


def _said(response: httpx.Response) -> dict[str, str]:
    """The ErrorInfo metadata of a JSON error status."""
    details = response.json().get("details", [])
    info = next(d for d in details if d.get("@type", "").endswith("google.rpc.ErrorInfo"))
    metadata: dict[str, str] = info.get("metadata", {})
    return metadata


def _return(edge: httpx.Client, staff: Any, barcode: str, branch: str, request_id: str) -> httpx.Response:
    body = {"barcode": barcode, "branch": branch, "request_id": request_id}
    return edge.post("/v1/loans:return", json=body, headers=staff.headers)


def test_a_copy_in_transit_for_a_hold_handed_in_at_return_is_sent_on_then_shelved_at_the_pickup_branch(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    copy = copies_of(edge, librarian, book)[barcode]
    moved = edge.patch(
        f"/v1/{copy['name']}", params={"update_mask": "branch"}, json={"branch": "MAIN"}, headers=librarian.headers
    )
    assert moved.status_code == 200, moved.text
    wanted = {"patron": patron.name, "book": book, "pickup_branch": "EAST"}
    placed = edge.post("/v1/holds", json=wanted, headers=patron.headers)
    assert placed.status_code == 200 and placed.json()["status"] == "HOLD_STATUS_IN_TRANSIT", placed.text
    hold = placed.json()["name"]

    # Pulled at MAIN and handed in at MAIN's Return: sent on to EAST (off MAIN's pull list), as Receive does.
    at_main = str(uuid.uuid4())
    sent = _return(edge, librarian, barcode, "MAIN", at_main)
    assert sent.status_code == 400 and reason(sent) == "COPY_RECEIVED_FOR_HOLD", sent.text
    said = _said(sent)
    assert (said["hold"], said["status"], said["pickup_branch"], said["came_home"]) == (
        hold, "IN_TRANSIT", "EAST", "false"
    )  # fmt: skip
    assert said["patron"] == patron.name
    in_the_van = edge.get(f"/v1/{hold}", headers=librarian.headers).json()
    assert (in_the_van["status"], in_the_van.get("to_pull", False)) == ("HOLD_STATUS_IN_TRANSIT", False)

    # At EAST's Return: on the hold shelf, the hold READY.
    at_east = str(uuid.uuid4())
    shelved = _return(edge, librarian, barcode, "EAST", at_east)
    assert shelved.status_code == 400 and reason(shelved) == "COPY_RECEIVED_FOR_HOLD", shelved.text
    assert _said(shelved)["status"] == "READY"
    assert edge.get(f"/v1/{hold}", headers=librarian.headers).json()["status"] == "HOLD_STATUS_READY"
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_ON_HOLD_SHELF"

    # Each desk's rescan with its request_id gets its first answer again, though the copy has moved on since.
    again = _return(edge, librarian, barcode, "MAIN", at_main)
    assert (again.status_code, reason(again), _said(again)["status"]) == (400, "COPY_RECEIVED_FOR_HOLD", "IN_TRANSIT")
    again = _return(edge, librarian, barcode, "EAST", at_east)
    assert (again.status_code, reason(again), _said(again)["status"]) == (400, "COPY_RECEIVED_FOR_HOLD", "READY")
