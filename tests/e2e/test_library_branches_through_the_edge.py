"""The session's library lists its branches (MAIN, EAST, WEST: ATHENAEUM_LIBRARY_BRANCHES, tests/conftest.py): a
hold for another pickup branch, or a desk naming another branch, is refused with a field violation, over REST
and gRPC through the edge; the copy stays on the shelf (it was pulled and sent to "SOUTH", IN_TRANSIT for ever).
So is an account's home branch not listed (a librarian at "SOUTH" had every desk return refused)."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import httpx
import pytest
from circulation import copies_of, lend, new_book
from google.rpc import error_details_pb2, status_pb2

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc, resources_pb2

pytestmark = pytest.mark.e2e
LISTED = ["MAIN", "EAST", "WEST", "NORTH", "SHELFHERE", "SHELFTHERE", "PULLMAIN", "PULLEAST"]  # E2E_LIBRARY_BRANCHES


def _violations(response: httpx.Response) -> dict[str, str]:
    return {
        violation["field"]: violation["description"]
        for detail in response.json().get("details", [])
        if detail["@type"].endswith("google.rpc.BadRequest")
        for violation in detail["field_violations"]
    }


def test_a_hold_for_a_branch_the_library_does_not_have_is_refused_and_its_copy_stays_on_the_shelf(
    edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    wanted = {"patron": patron.name, "book": book, "pickup_branch": "SOUTH"}
    refused = edge.post("/v1/holds", json=wanted, headers=patron.headers)
    assert refused.status_code == 400, refused.text
    assert (
        "'SOUTH' is not a branch of this library: give one of MAIN, EAST, WEST"
        in (_violations(refused)["hold.pickup_branch"])
    )
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_AVAILABLE"
    placed = edge.post("/v1/holds", json={**wanted, "pickup_branch": "east"}, headers=patron.headers)
    assert placed.status_code == 200 and placed.json()["status"] == "HOLD_STATUS_IN_TRANSIT", placed.text
    scanned = edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": "EATS"}, headers=librarian.headers)
    assert scanned.status_code == 400 and "branch" in _violations(scanned), scanned.text
    received = edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": "EAST"}, headers=librarian.headers)
    assert received.status_code == 200 and received.json()["status"] == "HOLD_STATUS_READY", received.text


def test_a_hold_over_grpc_names_the_field_and_a_return_at_an_unknown_desk_is_refused(
    edge: httpx.Client, mesh: Any, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    hold = resources_pb2.Hold(patron=patron.name, book=book, pickup_branch="SOUTH")
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel, pytest.raises(grpc.RpcError) as refused:
        loans_pb2_grpc.LoansServiceStub(channel).PlaceHold(
            loans_pb2.PlaceHoldRequest(hold=hold, request_id=str(uuid.uuid4())), metadata=patron.metadata, timeout=10
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = status_pb2.Status.FromString(dict(refused.value.trailing_metadata())["grpc-status-details-bin"])
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [violation.field for violation in bad.field_violations]
    assert fields == ["hold.pickup_branch"]
    lend(edge, librarian, new_reader().name, barcode=barcode)
    returned = edge.post("/v1/loans:return", json={"barcode": barcode, "branch": "SOUTH"}, headers=librarian.headers)
    assert returned.status_code == 400 and "branch" in _violations(returned), returned.text
    taken = edge.post("/v1/loans:return", json={"barcode": barcode, "branch": ""}, headers=librarian.headers)
    assert taken.status_code == 200 and taken.json()["status"] == "LOAN_STATUS_RETURNED", taken.text


def test_an_account_at_a_branch_the_library_does_not_have_is_refused_and_a_listed_one_kept_in_its_spelling(
    edge: httpx.Client, librarian, new_reader
) -> None:
    email = f"branch-{uuid.uuid4().hex[:10]}@example.org"
    wanted = {"user": {"email": email, "display_name": "Desk South", "home_branch": "SOUTH"}}
    refused = edge.post("/v1/users", json=wanted, headers=librarian.headers)
    assert refused.status_code == 400, refused.text
    assert (
        "'SOUTH' is not a branch of this library: give one of MAIN, EAST, WEST"
        in (_violations(refused)["user.home_branch"])
    )
    made = edge.post("/v1/users", json={"user": {**wanted["user"], "home_branch": " west "}}, headers=librarian.headers)
    assert made.status_code == 200 and made.json()["home_branch"] == "WEST", made.text
    reader = new_reader()
    mask = {"update_mask": "home_branch"}
    moved = edge.patch(f"/v1/{reader.name}", json={"home_branch": "EATS"}, params=mask, headers=reader.headers)
    assert moved.status_code == 400 and "user.home_branch" in _violations(moved), moved.text
    moved = edge.patch(f"/v1/{reader.name}", json={"home_branch": "east"}, params=mask, headers=reader.headers)
    assert moved.status_code == 200 and moved.json()["home_branch"] == "EAST", moved.text


def test_any_signed_in_user_is_told_the_library_s_branches_in_its_order_and_nobody_else(
    edge: httpx.Client, mesh: Any, new_reader
) -> None:
    reader = new_reader()
    answer = edge.get("/v1/branches", headers=reader.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"branches": LISTED, "listed": True}  # a reader chooses a pickup branch among them
    assert edge.get("/v1/branches").status_code == 401, "signed in only"
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        listed = catalog_pb2_grpc.CatalogServiceStub(channel).ListLibraryBranches(
            catalog_pb2.ListLibraryBranchesRequest(), metadata=reader.metadata, timeout=10
        )
    assert (list(listed.branches), listed.listed) == (LISTED, True)
