"""Retries, twins and cut-offs through the real edge and mesh (issue 9, points 2 to 6 and 9): a request_id
acts once and has one answer, and no copy is left on the hold shelf for nobody."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from circulation import (
    add_copy,
    at_once,
    circulation_holds_together,
    copies_of,
    issue,
    lend,
    new_book,
    one_answer,
    place_hold,
    reason,
    receive,
    reconcile,
    reserve_behind_loans_back,
)

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc

pytestmark = pytest.mark.e2e
TWINS = 30


def fine_of(edge: httpx.Client, staff, patron: str, amount: str) -> dict:
    charged = edge.post("/v1/fines", json={"patron": patron, "amount": amount, "kind": "FINE_KIND_OTHER"},
                        headers=staff.headers)  # fmt: skip
    assert charged.status_code == 200, charged.text
    return charged.json()


def test_twins_of_a_return_a_payment_a_hold_and_a_renewal_get_one_answer(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    """Point 3: a client retrying while its first call still runs got 200 + 400 (LOAN_ALREADY_RETURNED,
    FINE_NOT_OUTSTANDING, HOLD_EXISTS, RENEWAL_LIMIT_REACHED); now every twin gets the first answer."""
    patron = new_reader()
    _book, (barcode, other) = new_book(edge, librarian, copies=2)
    renewable = lend(edge, librarian, patron.name, barcode=other)
    returned = lend(edge, librarian, patron.name, barcode=barcode)
    fine = fine_of(edge, librarian, patron.name, "6.00")
    wanted, _ = new_book(edge, librarian)
    lend(edge, librarian, new_reader().name, book=wanted)  # so the hold waits

    def twins(path: str, body: dict, account) -> list[tuple[str, str, dict, object]]:
        keyed = {**body, "request_id": str(uuid.uuid4())}
        return [("POST", path, keyed, account)] * TWINS

    answers = at_once(
        mesh.edge_url,
        [
            *twins(f"/v1/{returned['name']}:return", {}, librarian),
            *twins(f"/v1/{fine['name']}:pay", {"amount": "3.00"}, librarian),
            *twins(f"/v1/{renewable['name']}:renew", {}, patron),
        ],
    )
    assert one_answer(answers[:TWINS])["status"] == "LOAN_STATUS_RETURNED"
    assert one_answer(answers[TWINS : 2 * TWINS])["paid_amount"] == "3.00"
    assert one_answer(answers[2 * TWINS :])["renewal_count"] == 1
    assert edge.get(f"/v1/{fine['name']}", headers=librarian.headers).json()["paid_amount"] == "3.00"

    hold_id = str(uuid.uuid4())
    holds = at_once(
        mesh.edge_url,
        [("POST", f"/v1/holds?request_id={hold_id}", {"patron": patron.name, "book": wanted}, patron)] * TWINS,
    )
    assert one_answer(holds)["status"] == "HOLD_STATUS_WAITING"


def test_a_final_refusal_is_remembered_and_a_new_id_asks_again(edge: httpx.Client, librarian, new_reader) -> None:
    """Point 4: an issue refused NO_COPY_AVAILABLE later created a loan when re-sent with the same id."""
    first, second = new_reader(), new_reader()
    book, (barcode,) = new_book(edge, librarian)
    lend(edge, librarian, first.name, barcode=barcode)
    request_id = str(uuid.uuid4())
    refused = issue(edge, librarian, second.name, request_id, book=book)
    assert refused.status_code == 400 and reason(refused) == "NO_COPY_AVAILABLE"
    assert edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers).status_code == 200
    again = issue(edge, librarian, second.name, request_id, book=book)
    assert (again.status_code, again.json()) == (400, refused.json())
    assert issue(edge, librarian, second.name, str(uuid.uuid4()), book=book).status_code == 200


def test_an_id_is_bound_to_its_request_and_to_who_sent_it(edge: httpx.Client, librarian, new_reader) -> None:
    """The same id with another patron or book was answered with the first loan; a reader replaying someone
    else's renewal id was shown their loan."""
    owner, other, snoop = new_reader(), new_reader(), new_reader()
    _book, (barcode,) = new_book(edge, librarian)
    request_id = str(uuid.uuid4())
    assert issue(edge, librarian, owner.name, request_id, barcode=barcode).status_code == 200
    reused = issue(edge, librarian, other.name, request_id, barcode=barcode)
    assert reused.status_code == 400 and "request_id" in reused.text

    loan = lend(edge, librarian, owner.name, book=new_book(edge, librarian)[0])
    renewal_id = str(uuid.uuid4())
    renewed = edge.post(f"/v1/{loan['name']}:renew", json={"request_id": renewal_id}, headers=owner.headers)
    assert renewed.status_code == 200, renewed.text
    replayed = edge.post(f"/v1/{loan['name']}:renew", json={"request_id": renewal_id}, headers=snoop.headers)
    assert replayed.status_code in (400, 403) and owner.name not in replayed.text


def test_a_partial_payment_is_applied_once_and_its_retry_says_what_it_paid(
    edge: httpx.Client, librarian, new_reader
) -> None:
    """Point 9: PayFine 3.00 on a 6.00 fine answered paid_amount 6.00: its retry came after another payment
    and was answered with the fine as it was then, not with what the first call did."""
    fine = fine_of(edge, librarian, new_reader().name, "6.00")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    pay = f"/v1/{fine['name']}:pay"
    paid = edge.post(pay, json={"amount": "3.00", "request_id": first}, headers=librarian.headers)
    assert paid.status_code == 200 and paid.json()["paid_amount"] == "3.00"
    rest = edge.post(pay, json={"amount": "3.00", "request_id": second}, headers=librarian.headers)
    assert rest.json()["status"] == "FINE_STATUS_PAID"
    retried = edge.post(pay, json={"amount": "3.00", "request_id": first}, headers=librarian.headers)
    assert retried.status_code == 200 and retried.json() == paid.json()
    now = edge.get(f"/v1/{fine['name']}", headers=librarian.headers).json()
    assert (now["paid_amount"], now["outstanding_amount"]) == ("6.00", "0.00")


def test_a_cut_off_hold_re_sent_then_cancelled_leaves_no_copy_on_the_shelf(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    """Point 2: a PlaceHold cut off after the catalog reserved a copy, re-sent (WAITING), then cancelled,
    left the copy ON_HOLD_SHELF for a CANCELLED hold (5 of 40 tries)."""
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = loans_pb2_grpc.LoansServiceStub(channel)
        for cut_off_ms in (1, 3, 6, 10, 15, 20, 30, 45, 60, 90):
            request = loans_pb2.PlaceHoldRequest(request_id=str(uuid.uuid4()))
            request.hold.patron, request.hold.book = patron.name, book
            try:
                stub.PlaceHold(request, metadata=patron.metadata, timeout=cut_off_ms / 1000)
            except grpc.RpcError as cut:
                assert cut.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED), cut
            placed = stub.PlaceHold(request, metadata=patron.metadata, timeout=30)
            stub.CancelHold(loans_pb2.CancelHoldRequest(name=placed.name), metadata=patron.metadata, timeout=30)
            copy = copies_of(edge, librarian, book)[barcode]
            assert copy["status"] == "COPY_STATUS_AVAILABLE", (cut_off_ms, copy)
    circulation_holds_together(edge, librarian, [book])


def test_lending_a_ready_patron_another_copy_passes_the_held_one_on(edge: httpx.Client, librarian, new_reader) -> None:
    """Point 2: the hold became FULFILLED but its copy stayed ON_HOLD_SHELF for good."""
    patron, next_in_line = new_reader(), new_reader()
    book, _ = new_book(edge, librarian, copies=2)
    hold = place_hold(edge, patron, book)
    assert hold["status"] == "HOLD_STATUS_IN_TRANSIT"
    assert receive(edge, librarian, hold["name"])["status"] == "HOLD_STATUS_READY"
    free = next(b for b, copy in copies_of(edge, librarian, book).items() if copy["status"] == "COPY_STATUS_AVAILABLE")
    lend(edge, librarian, new_reader().name, barcode=free)
    queued = place_hold(edge, next_in_line, book)
    assert queued["status"] == "HOLD_STATUS_WAITING"
    third = add_copy(edge, librarian, book)
    lend(edge, librarian, patron.name, barcode=third)  # at the desk, the patron takes another copy

    fulfilled = edge.get(f"/v1/{hold['name']}", headers=patron.headers).json()
    assert fulfilled["status"] == "HOLD_STATUS_FULFILLED"
    passed_on = edge.get(f"/v1/{queued['name']}", headers=next_in_line.headers).json()
    assert (passed_on["status"], passed_on["copy"]) == ("HOLD_STATUS_IN_TRANSIT", hold["copy"])  # relabelled
    circulation_holds_together(edge, librarian, [book])


def test_the_reconciler_gives_a_shelf_copy_loans_never_recorded_to_its_hold_or_takes_it_off(
    mesh, edge: httpx.Client, librarian, admin, new_reader
) -> None:
    """Point 2: the reconciler only looked at copies on loan; a copy on the shelf for a hold that is WAITING
    (the process died after the catalog's step) or CANCELLED stayed there for good."""
    waiting, cancelled = new_reader(), new_reader()
    book, barcodes = new_book(edge, librarian, copies=2)
    for barcode in barcodes:
        lend(edge, librarian, new_reader().name, barcode=barcode)
    first, second = place_hold(edge, waiting, book), place_hold(edge, cancelled, book)
    assert edge.post(f"/v1/{second['name']}:cancel", json={}, headers=cancelled.headers).status_code == 200
    for _ in range(2):
        add_copy(edge, librarian, book)  # the catalog has them; loans has not heard of them
    for hold in (first, second):
        reserve_behind_loans_back(mesh, book, hold["name"])
    report = reconcile(edge, admin)
    assert any(second["name"] in line for line in report.get("discrepancies", [])), report
    made_ready = edge.get(f"/v1/{first['name']}", headers=waiting.headers).json()
    assert made_ready["status"] == "HOLD_STATUS_IN_TRANSIT"  # set aside on the open shelf: to be pulled
    statuses = sorted(copy["status"] for copy in copies_of(edge, librarian, book).values())
    assert statuses == [
        "COPY_STATUS_AVAILABLE",
        "COPY_STATUS_IN_TRANSIT",
        "COPY_STATUS_ON_LOAN",
        "COPY_STATUS_ON_LOAN",
    ]
    circulation_holds_together(edge, librarian, [book])


def test_copies_returned_at_once_to_a_queue_all_go_on_the_shelf_without_an_error(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    """Point 6: returns answered 503 (catalog's CheckInCopy ABORTED: two returns of one book asked to shelve
    their copies for the same head of the queue)."""
    copies = 6
    book, barcodes = new_book(edge, librarian, copies=copies)
    for barcode in barcodes:
        lend(edge, librarian, new_reader().name, barcode=barcode)
    holds = [place_hold(edge, new_reader(), book) for _ in range(copies)]
    answers = at_once(
        mesh.edge_url, [("POST", "/v1/loans:return", {"barcode": barcode}, librarian) for barcode in barcodes]
    )
    assert [r.status_code for r in answers] == [200] * copies, [r.text for r in answers if r.status_code != 200]
    statuses = {edge.get(f"/v1/{h['name']}", headers=librarian.headers).json()["status"] for h in holds}
    # Each trapped at the desk, or (its head served meanwhile) set aside on the open shelf for the next one.
    assert statuses <= {"HOLD_STATUS_READY", "HOLD_STATUS_IN_TRANSIT"} and "HOLD_STATUS_READY" in statuses
    circulation_holds_together(edge, librarian, [book])
