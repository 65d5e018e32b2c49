"""An item type's rule through the real mesh (findings #3 and #5): copies of a type not for loan nor for holds
(reference copies) are never lent by book nor put on the hold shelf, and a hold no copy may serve is refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from circulation import issue, lend, place_hold, reason

pytestmark = pytest.mark.e2e


@pytest.fixture
def reference_type(edge: httpx.Client, admin) -> Iterator[str]:
    """An item type of this test's own, under a rule like the findings' REFERENCE one: for use in the library."""
    item_type = f"REF{uuid.uuid4().hex[:8].upper()}"
    # In the catalog's list, lendable there: here the loans service's rule is what keeps the copies in.
    kind = {"code": item_type, "description": "For use in the library", "not_for_loan": False}
    listed = edge.post("/v1/itemTypes", json=kind, headers=admin.headers)
    assert listed.status_code == 200, listed.text
    rule = {
        "patron_category": "*",
        "item_type": item_type,
        "loan_period_days": 1,
        "max_renewals": 0,
        "renewal_period_days": 1,
        "max_loans": 0,
        "holds_allowed": False,
        "max_holds": 0,
        "hold_pickup_days": 1,
    }
    created = edge.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    yield item_type
    assert edge.delete(f"/v1/{created.json()['name']}", headers=admin.headers).status_code == 200


def _book(edge: httpx.Client, staff, *item_types: str) -> tuple[str, list[str]]:
    """A book with a copy of each item type, their barcodes in that order (the order the catalog picks in)."""
    created = edge.post("/v1/books", json={"title": f"Mixed {uuid.uuid4().hex[:6]}"}, headers=staff.headers)
    assert created.status_code == 200, created.text
    book = created.json()["name"]
    barcodes = []
    for number, item_type in enumerate(item_types):
        barcode = f"IT{number}-{uuid.uuid4().hex[:10]}"
        copy = edge.post(f"/v1/{book}/copies", json={"barcode": barcode, "item_type": item_type}, headers=staff.headers)
        assert copy.status_code == 200, copy.text
        barcodes.append(barcode)
    return book, barcodes


def _status(edge: httpx.Client, staff, barcode: str) -> str:
    found = edge.get("/v1/copies:lookup", params={"barcode": barcode}, headers=staff.headers)
    assert found.status_code == 200, found.text
    return str(found.json()["status"])


def test_a_title_is_lent_by_book_from_its_lendable_copy_and_a_reference_copy_is_not_for_loan(
    edge: httpx.Client, librarian, new_reader, reference_type: str
) -> None:
    first, second = new_reader(), new_reader()
    book, (reference, lendable) = _book(edge, librarian, reference_type, "BOOK")
    loan = lend(edge, librarian, first.name, book=book)
    assert (loan["barcode"], _status(edge, librarian, reference)) == (lendable, "COPY_STATUS_AVAILABLE")
    at_the_desk = issue(edge, librarian, second.name, barcode=reference)
    assert at_the_desk.status_code == 400 and reason(at_the_desk) == "NOT_FOR_LOAN", at_the_desk.text
    assert "not for loan" in at_the_desk.json()["message"]
    none_left = issue(edge, librarian, second.name, book=book)
    assert none_left.status_code == 400 and reason(none_left) == "NO_COPY_AVAILABLE", none_left.text
    assert _status(edge, librarian, reference) == "COPY_STATUS_AVAILABLE"


def test_a_reference_copy_is_never_put_on_the_hold_shelf(
    edge: httpx.Client, librarian, new_reader, reference_type: str
) -> None:
    borrower, waiting = new_reader(), new_reader()
    reference_only, (only_copy,) = _book(edge, librarian, reference_type)
    refused = edge.post("/v1/holds", json={"patron": waiting.name, "book": reference_only}, headers=waiting.headers)
    assert refused.status_code == 400 and reason(refused) == "HOLDS_NOT_ALLOWED", refused.text
    assert _status(edge, librarian, only_copy) == "COPY_STATUS_AVAILABLE"

    book, (reference, lendable) = _book(edge, librarian, reference_type, "BOOK")
    lend(edge, librarian, borrower.name, barcode=lendable)
    hold = place_hold(edge, waiting, book)
    assert hold["status"] == "HOLD_STATUS_WAITING" and _status(edge, librarian, reference) == "COPY_STATUS_AVAILABLE"
    returned = edge.post("/v1/loans:return", json={"barcode": lendable}, headers=librarian.headers)
    assert returned.status_code == 200, returned.text
    ready = edge.get(f"/v1/{hold['name']}", headers=waiting.headers).json()  # trapped at the (pickup) desk
    assert ready["status"] == "HOLD_STATUS_READY" and _status(edge, librarian, lendable) == "COPY_STATUS_ON_HOLD_SHELF"
    assert _status(edge, librarian, reference) == "COPY_STATUS_AVAILABLE"


def test_a_rule_names_an_item_type_the_catalog_lists(edge: httpx.Client, admin, reference_type: str) -> None:
    """The loans service asks the real catalog: a typo is refused as the catalog refuses such a copy, and a
    code str.upper would fold ("\u00df" to "SS") is refused before anyone is asked."""
    category = f"E2E{uuid.uuid4().hex[:6].upper()}"
    rule = {"patron_category": category, "item_type": reference_type + "S", "loan_period_days": 14}
    typo = edge.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert typo.status_code == 400 and reason(typo) == "UNKNOWN_ITEM_TYPE", typo.text
    assert "define it in itemTypes first" in typo.json()["message"]
    folded = edge.post("/v1/circulationRules", json={**rule, "item_type": "\u00df"}, headers=admin.headers)
    assert folded.status_code == 400 and reason(folded) != "UNKNOWN_ITEM_TYPE", folded.text
    listed = edge.get("/v1/circulationRules", params={"patron_category": category}, headers=admin.headers)
    assert all(rule["patron_category"] != category for rule in listed.json().get("circulation_rules", []))
