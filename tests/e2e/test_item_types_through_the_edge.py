"""The list of item types through the real edge: an admin defines a not-for-loan type, a copy of it counts as
"for reference" on its book and is refused at the desk, a copy of a type not in the list is refused, and a type
copies have is not deleted."""

from __future__ import annotations

import uuid

import httpx
import pytest
from circulation import issue, new_book, reason

pytestmark = pytest.mark.e2e


def _counts(edge: httpx.Client, book: str) -> tuple[int, int]:
    read = edge.get(f"/v1/{book}")  # a reader's page, signed in or not
    assert read.status_code == 200, read.text
    return int(read.json().get("available_copies", 0)), int(read.json().get("reference_copies", 0))


def test_a_reference_type_s_copies_are_for_reference_only_and_its_list_is_the_admins(
    edge: httpx.Client, admin, librarian, new_reader
) -> None:
    code = f"REF{uuid.uuid4().hex[:8].upper()}"
    kind = {"code": code.lower(), "description": "Reference works", "not_for_loan": True}
    refused = edge.post("/v1/itemTypes", json=kind, headers=librarian.headers)
    assert refused.status_code == 403, refused.text
    created = edge.post("/v1/itemTypes", json=kind, headers=admin.headers)
    assert created.status_code == 200, created.text
    assert (created.json()["name"], created.json()["not_for_loan"]) == (f"itemTypes/{code}", True)
    listed = edge.get("/v1/itemTypes", params={"page_size": 100})
    assert listed.status_code == 200 and code in [k["code"] for k in listed.json()["item_types"]], listed.text

    book, _ = new_book(edge, librarian, copies=1)
    barcode = f"RF-{uuid.uuid4().hex[:10]}"
    copy = edge.post(f"/v1/{book}/copies", json={"barcode": barcode, "item_type": code}, headers=librarian.headers)
    assert copy.status_code == 200, copy.text
    assert _counts(edge, book) == (1, 1)

    at_the_desk = issue(edge, librarian, new_reader().name, barcode=barcode)
    assert at_the_desk.status_code == 400 and reason(at_the_desk) == "NOT_FOR_LOAN", at_the_desk.text

    typo = edge.post(f"/v1/{book}/copies", json={"barcode": f"T-{uuid.uuid4().hex[:8]}", "item_type": "BOK"},
                     headers=librarian.headers)  # fmt: skip
    assert typo.status_code == 400 and reason(typo) == "UNKNOWN_ITEM_TYPE", typo.text
    assert "define it in itemTypes first" in typo.json()["message"]

    in_use = edge.delete(f"/v1/itemTypes/{code}", headers=admin.headers)
    assert in_use.status_code == 400 and reason(in_use) == "ITEM_TYPE_IN_USE", in_use.text

    lendable_now = {"not_for_loan": False, "etag": created.json()["etag"]}
    patched = edge.patch(
        f"/v1/itemTypes/{code}", params={"update_mask": "not_for_loan"}, json=lendable_now, headers=admin.headers
    )
    assert patched.status_code == 200 and not patched.json().get("not_for_loan"), patched.text
    assert _counts(edge, book) == (2, 0)
