"""A copy that never comes back, through the real edge and mesh: declared lost (the loan LOST, the catalog's
copy LOST, a LOST_ITEM fine, the audit trail), then found and scanned at the desk (back on the shelf, the fine
waived)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from circulation import copies_of, lend, listed, new_book, reason

pytestmark = pytest.mark.e2e


def declare_lost(edge: httpx.Client, staff, loan: str, request_id: str = "", amount: str = "25.00") -> httpx.Response:
    body = {"amount": amount, "reason": "not returned after three notices", "request_id": request_id}
    return edge.post(f"/v1/{loan}:declareLost", json=body, headers=staff.headers)


def audit_types(edge: httpx.Client, staff, loan: str, wanted: set[str], timeout: float = 30.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        events = listed(edge, staff, "/v1/events", "events", filter=f'resource = "{loan}"')
        types = {event["type"].rsplit(".", 1)[-1] for event in events}
        if wanted <= types or time.monotonic() > deadline:
            return types
        time.sleep(0.2)


def lost_item_fine(edge: httpx.Client, staff, patron: str, loan: str) -> dict:
    fines = listed(edge, staff, f"/v1/{patron}/fines", "fines")
    (fine,) = [f for f in fines if f["loan"] == loan and f["kind"] == "FINE_KIND_LOST_ITEM"]
    return fine


def test_a_copy_declared_lost_then_found_goes_back_on_the_shelf_and_its_fine_is_waived(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    loan = lend(edge, librarian, patron.name, barcode=barcode)["name"]

    refused = declare_lost(edge, patron, loan)
    assert refused.status_code == 403, refused.text
    request_id = str(uuid.uuid4())
    declared = declare_lost(edge, librarian, loan, request_id)
    assert declared.status_code == 200, declared.text
    assert declared.json()["status"] == "LOAN_STATUS_LOST" and declared.json()["return_time"]
    retried = declare_lost(edge, librarian, loan, request_id)
    assert retried.status_code == 200 and retried.json()["status"] == "LOAN_STATUS_LOST", retried.text
    again = declare_lost(edge, librarian, loan)
    assert (again.status_code, reason(again)) == (400, "LOAN_NOT_ACTIVE"), again.text

    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_LOST"
    charge = lost_item_fine(edge, librarian, patron.name, loan)
    assert (charge["amount"], charge["status"]) == ("25.00", "FINE_STATUS_OUTSTANDING")
    mine = edge.get(f"/v1/{patron.name}/loans", headers=patron.headers)
    assert [entry["status"] for entry in mine.json()["loans"]] == ["LOAN_STATUS_LOST"], mine.text

    found = edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
    assert found.status_code == 200, found.text
    assert (found.json()["name"], found.json()["status"]) == (loan, "LOAN_STATUS_LOST")
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_AVAILABLE"
    waived = lost_item_fine(edge, librarian, patron.name, loan)
    assert (waived["status"], waived["waive_reason"]) == ("FINE_STATUS_WAIVED", "found")
    assert lend(edge, librarian, patron.name, barcode=barcode)["status"] == "LOAN_STATUS_ACTIVE"

    types = audit_types(edge, librarian, loan, {"loan_declared_lost", "lost_loan_found"})
    assert {"loan_issued", "loan_declared_lost", "lost_loan_found"} <= types, types


def test_a_lost_copy_found_after_a_part_payment_owes_nothing_and_the_desk_is_told_what_to_hand_back(
    edge: httpx.Client, librarian, new_reader
) -> None:
    """Paid 5.00 of 25.00, then found: the reader still owed 20.00 and the desk was told nothing (M1)."""
    patron = new_reader()
    _, (barcode,) = new_book(edge, librarian)
    loan = lend(edge, librarian, patron.name, barcode=barcode)["name"]
    assert declare_lost(edge, librarian, loan).status_code == 200
    charge = lost_item_fine(edge, librarian, patron.name, loan)
    paid = edge.post(f"/v1/{charge['name']}:pay", json={"amount": "5.00", "payment_method": "cash"},
                     headers=librarian.headers)  # fmt: skip
    assert paid.status_code == 200, paid.text

    found = edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
    assert found.status_code == 200, found.text
    assert found.json()["refund_amount"] == "5.00"
    withdrawn = lost_item_fine(edge, librarian, patron.name, loan)
    assert (withdrawn["status"], withdrawn["outstanding_amount"], withdrawn["refund_amount"]) == (
        "FINE_STATUS_WAIVED",
        "0.00",
        "5.00",
    )
    fines = edge.get(f"/v1/{patron.name}/fines", headers=patron.headers).json()
    assert fines["outstanding_total"] in ("0", "0.00"), fines
    types = audit_types(edge, librarian, withdrawn["name"], {"fine_waived"})
    assert {"fine_assessed", "fine_paid", "fine_waived"} <= types, types
