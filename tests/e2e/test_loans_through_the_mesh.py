"""Circulation through the real edge and mesh: users (eligibility) and catalog (copies) are the real services."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
import nats as nats_py
import pytest
from circulation import issue_when_served, lend
from nats.js.api import ConsumerConfig, DeliverPolicy

from athenaeum.loans.v1 import events_pb2
from services.loans.api.users_feed import ACCOUNTS
from services.support.runtime.messaging import stream_name

pytestmark = pytest.mark.e2e


def new_book(edge: httpx.Client, staff, *, copies: int = 1, item_type: str = "BOOK") -> tuple[str, list[str]]:
    """A book with `copies` copies; returns its name and the copies' barcodes."""
    created = edge.post("/v1/books", json={"title": f"Circulation {uuid.uuid4().hex[:6]}"}, headers=staff.headers)
    assert created.status_code == 200, created.text
    book = created.json()["name"]
    barcodes = []
    for _ in range(copies):
        barcode = f"LN-{uuid.uuid4().hex[:12]}"
        copy = edge.post(f"/v1/{book}/copies", json={"barcode": barcode, "item_type": item_type}, headers=staff.headers)
        assert copy.status_code == 200, copy.text
        barcodes.append(barcode)
    return book, barcodes


def issue(edge: httpx.Client, staff, patron: str, **item: str) -> httpx.Response:
    return edge.post("/v1/loans:issue", json={"patron": patron, **item}, headers=staff.headers)


def reason(response: httpx.Response) -> str:
    """The google.rpc.ErrorInfo reason of a JSON error status."""
    return next(
        (d["reason"] for d in response.json().get("details", []) if d["@type"].endswith("google.rpc.ErrorInfo")), ""
    )


def _set_status(edge: httpx.Client, staff, patron: str, status: str) -> None:
    body = {"status": status, "status_reason": "lost books" if status.endswith("BLOCKED") else ""}
    mask = {"update_mask": "status,status_reason"}
    changed = edge.patch(f"/v1/{patron}", params=mask, json=body, headers=staff.headers)
    assert changed.status_code == 200, changed.text


def _until_projection_caught_up(mesh, seconds: float = 20.0) -> None:
    """Until the loans projection's consumer has every users event (what lets an issue trust it)."""

    async def caught_up() -> bool:
        client = await nats_py.connect(mesh.nats_url)
        try:
            info = await client.jetstream().consumer_info(ACCOUNTS.stream, ACCOUNTS.durable)
            return info.num_pending == 0 and info.num_ack_pending == 0
        finally:
            await client.close()

    deadline = time.monotonic() + seconds
    while not asyncio.run(caught_up()):
        assert time.monotonic() < deadline, "the loans projection did not catch up"
        time.sleep(0.1)


def _eligibility_answers(mesh, source: str) -> float:
    """How many eligibility answers the loans service took from `source` ("projection" or "users")."""
    metrics = httpx.get(f"http://127.0.0.1:{mesh.topology.placement('loans').metrics_port}/metrics").text
    found = re.search(rf'^athenaeum_loans_eligibility_total{{source="{source}"}} (\S+)$', metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_a_block_the_desk_was_told_of_stops_the_very_next_issue(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    """Loans answers most issues from its projection of accounts: a block (or its lifting) confirmed by the
    users service applies to the next issue at once, however soon it comes."""
    patron = new_reader()
    _, barcodes = new_book(edge, librarian, copies=5)

    assert issue(edge, librarian, patron.name, barcode=barcodes[0]).status_code == 200
    for barcode in barcodes[1:4]:
        _set_status(edge, librarian, patron.name, "USER_STATUS_BLOCKED")
        refused = issue(edge, librarian, patron.name, barcode=barcode)
        assert refused.status_code == 400 and reason(refused) == "PATRON_NOT_ELIGIBLE", refused.text
        assert "lost books" in refused.json()["message"]
        _set_status(edge, librarian, patron.name, "USER_STATUS_ACTIVE")
        assert issue(edge, librarian, patron.name, barcode=barcode).status_code == 200
    _until_projection_caught_up(mesh)  # then the next issue asks nobody
    answered = _eligibility_answers(mesh, "projection")
    assert issue(edge, librarian, patron.name, barcode=barcodes[4]).status_code == 200
    assert _eligibility_answers(mesh, "projection") == answered + 1


def test_a_loan_goes_out_and_comes_back(edge: httpx.Client, librarian, new_reader) -> None:
    patron, stranger = new_reader(), new_reader()
    book, (barcode,) = new_book(edge, librarian)
    issued = issue(edge, librarian, patron.name, barcode=barcode)
    assert issued.status_code == 200, issued.text
    loan = issued.json()
    assert (loan["status"], loan["book"], loan["barcode"]) == ("LOAN_STATUS_ACTIVE", book, barcode)
    assert loan["due_time"] > loan["issue_time"] and loan["book_title"].startswith("Circulation")

    assert edge.get(f"/v1/{loan['name']}", headers=patron.headers).status_code == 200
    assert edge.get(f"/v1/{loan['name']}", headers=stranger.headers).status_code == 403
    mine = edge.get(f"/v1/{patron.name}/loans", headers=patron.headers).json()
    assert [item["name"] for item in mine["loans"]] == [loan["name"]]

    returned = edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "LOAN_STATUS_RETURNED"
    twice = edge.post(f"/v1/{loan['name']}:return", json={}, headers=librarian.headers)
    assert twice.status_code == 400 and reason(twice) == "LOAN_ALREADY_RETURNED"


def test_bad_requests_get_precise_statuses(edge: httpx.Client, librarian, reader, new_reader) -> None:
    _book, (barcode,) = new_book(edge, librarian)
    unknown_copy = issue(edge, librarian, reader.name, barcode="NO-SUCH-BARCODE")
    assert unknown_copy.status_code == 404
    unknown_patron = issue(edge, librarian, f"users/{uuid.uuid4()}", barcode=barcode)
    assert unknown_patron.status_code == 404
    assert issue(edge, librarian, reader.name).status_code == 400  # neither barcode nor book
    assert issue(edge, reader, reader.name, barcode=barcode).status_code == 403  # readers do not issue
    assert issue(edge, librarian, reader.name, barcode=barcode).status_code == 200
    taken = issue(edge, librarian, new_reader().name, barcode=barcode)
    assert taken.status_code == 400 and reason(taken), taken.text


def test_holds_queue_block_renewal_and_trap_the_returned_copy(edge: httpx.Client, librarian, new_reader) -> None:
    borrower, waiting = new_reader(), new_reader()
    book, (barcode,) = new_book(edge, librarian)
    loan = issue(edge, librarian, borrower.name, book=book).json()
    placed = edge.post("/v1/holds", json={"patron": waiting.name, "book": book}, headers=waiting.headers)
    assert placed.status_code == 200, placed.text
    hold = placed.json()
    assert (hold["status"], hold["queue_position"]) == ("HOLD_STATUS_WAITING", 1)

    renewal = edge.post(f"/v1/{loan['name']}:renew", json={}, headers=borrower.headers)
    assert renewal.status_code == 400 and reason(renewal) == "HOLDS_WAITING"
    assert edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers).status_code == 200
    ready = edge.get(f"/v1/{hold['name']}", headers=waiting.headers).json()
    assert ready["status"] == "HOLD_STATUS_READY" and ready["expire_time"]

    someone_else = issue(edge, librarian, borrower.name, barcode=barcode)
    assert someone_else.status_code == 400  # on the hold shelf for another patron
    collected = issue(edge, librarian, waiting.name, book=book)
    assert collected.status_code == 200, collected.text
    fulfilled = edge.get(f"/v1/{hold['name']}", headers=waiting.headers).json()
    assert fulfilled["status"] == "HOLD_STATUS_FULFILLED" and fulfilled["loan"] == collected.json()["name"]


def test_fines_block_borrowing_until_paid_or_waived(edge: httpx.Client, librarian, new_reader) -> None:
    patron = new_reader()
    book, _ = new_book(edge, librarian)
    charged = edge.post(
        "/v1/fines",
        json={"patron": patron.name, "amount": "25.00", "kind": "FINE_KIND_LOST_ITEM", "description": "lost"},
        headers=librarian.headers,
    )
    assert charged.status_code == 200, charged.text
    fine = charged.json()
    blocked = issue(edge, librarian, patron.name, book=book)
    assert blocked.status_code == 400 and reason(blocked) == "FINES_LIMIT_EXCEEDED"
    paid = edge.post(
        f"/v1/{fine['name']}:pay", json={"amount": "20.00", "payment_method": "cash"}, headers=librarian.headers
    )
    assert paid.status_code == 200 and paid.json()["outstanding_amount"] == "5.00"
    too_much = edge.post(f"/v1/{fine['name']}:pay", json={"amount": "6.00"}, headers=librarian.headers)
    assert too_much.status_code == 400
    waived = edge.post(f"/v1/{fine['name']}:waive", json={"reason": "goodwill"}, headers=librarian.headers)
    assert waived.json()["status"] == "FINE_STATUS_WAIVED"
    assert (waived.json()["waived_amount"], waived.json()["outstanding_amount"]) == ("5.00", "0.00")
    listed = edge.get(f"/v1/{patron.name}/fines", headers=patron.headers).json()
    assert listed["outstanding_total"] == "0.00"
    assert issue(edge, librarian, patron.name, book=book).status_code == 200


def test_an_amount_no_fine_can_hold_is_refused_by_name_not_failed(edge: httpx.Client, librarian, new_reader) -> None:
    patron = new_reader()
    for amount, said in (("1e309", "decimal amount"), ("99999999999999999999.99", "at most 9999999999.99"),
                         ("NaN", "decimal amount"), ("Infinity", "decimal amount")):  # fmt: skip
        charged = edge.post("/v1/fines", json={"patron": patron.name, "amount": amount}, headers=librarian.headers)
        assert charged.status_code == 400 and said in charged.json()["message"], (amount, charged.text)
    largest = edge.post("/v1/fines", json={"patron": patron.name, "amount": "9999999999.99"}, headers=librarian.headers)
    assert largest.status_code == 200, largest.text
    paying = edge.post(
        f"/v1/{largest.json()['name']}:pay", json={"amount": "10000000000.00"}, headers=librarian.headers
    )
    assert paying.status_code == 400 and "at most" in paying.json()["message"]


def test_the_rules_matrix_is_read_by_staff_and_edited_by_admins(edge: httpx.Client, admin, librarian) -> None:
    listed = edge.get("/v1/circulationRules", headers=librarian.headers)
    assert listed.status_code == 200
    assert any(r["patron_category"] == "*" and r["item_type"] == "*" for r in listed.json()["circulation_rules"])
    category = f"E2E{uuid.uuid4().hex[:6].upper()}"
    rule = {"patron_category": category, "item_type": "BOOK", "loan_period_days": 3, "fine_per_day": "0.50"}
    assert edge.post("/v1/circulationRules", json=rule, headers=librarian.headers).status_code == 403
    created = edge.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    assert edge.post("/v1/circulationRules", json=rule, headers=admin.headers).status_code == 409
    name = created.json()["name"]
    assert edge.delete(f"/v1/{name}", headers=admin.headers).status_code == 200
    assert edge.get(f"/v1/{name}", headers=librarian.headers).status_code == 404


def test_a_rule_whose_period_leaves_the_calendar_is_refused_by_name(edge: httpx.Client, admin) -> None:
    """Such a rule was stored, and every issue under it then failed INTERNAL after checking the copy out."""
    category = f"E2E{uuid.uuid4().hex[:6].upper()}"
    rule = {"patron_category": category, "item_type": "BOOK", "loan_period_days": 2**31 - 1, "max_loans": 5}
    refused = edge.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"] == "circulation_rule.loan_period_days: must be at most 36500 (a century)"


def test_issue_is_unavailable_while_a_peer_it_needs_is_down_and_served_when_it_is_back(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    patron, blocked = new_reader(), new_reader()
    _set_status(edge, librarian, blocked.name, "USER_STATUS_BLOCKED")
    book, (barcode,) = new_book(edge, librarian)
    # The catalog for anyone; users for a patron the projection of accounts would not lend to (a refusal is
    # always the users service's). Nothing half-done stays, and the same request is served once it is back.
    for peer, who, served in (("catalog", patron, 200), ("users", blocked, 400)):
        request_id = str(uuid.uuid4())
        mesh.process(peer).stop()
        try:
            down = issue(edge, librarian, who.name, barcode=barcode, request_id=request_id)
            assert down.status_code == 503, down.text
        finally:
            mesh.process(peer).start()
            mesh.wait_ready(peer)
        active = {"status": "LOAN_STATUS_ACTIVE"}
        loans = edge.get(f"/v1/{who.name}/loans", params=active, headers=librarian.headers).json()
        assert loans.get("total_size", 0) == 0  # nothing half-done is visible
        back = issue_when_served(edge, librarian, who.name, barcode=barcode, request_id=request_id)
        assert back.status_code == served, back.text
        if served == 200:
            returned = edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
            assert returned.status_code == 200, returned.text
        else:
            assert reason(back) == "PATRON_NOT_ELIGIBLE"
    assert edge.get(f"/v1/{book}", headers=librarian.headers).json()["available_copies"] == 1


def test_a_patron_in_good_standing_still_borrows_while_users_is_down(
    mesh, edge: httpx.Client, librarian, new_reader
) -> None:
    """The projection of accounts answers when it is current: circulation goes on without the users service."""
    patron = new_reader()
    _, (barcode,) = new_book(edge, librarian)
    lend(edge, librarian, patron.name, barcode=barcode)  # the projection knows the patron by now, or soon
    assert edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers).status_code == 200
    _until_projection_caught_up(mesh)
    mesh.process("users").stop()
    try:
        assert issue(edge, librarian, patron.name, barcode=barcode).status_code == 200
    finally:
        mesh.process("users").start()
        mesh.wait_ready("users")
    assert edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers).status_code == 200


async def test_an_issued_loan_is_announced_on_jetstream(mesh, edge: httpx.Client, librarian, new_reader) -> None:
    patron = new_reader()
    book, _ = new_book(edge, librarian)
    client = await nats_py.connect(mesh.nats_url)
    try:
        js = client.jetstream()
        subscription = await js.pull_subscribe(
            "athenaeum.loans.loan_issued.v1",
            durable=f"e2e-{uuid.uuid4().hex[:8]}",
            stream=stream_name("loans"),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),  # not the session's earlier events
        )
        issued = await asyncio.to_thread(issue_when_served, edge, librarian, patron.name, book=book)
        name = issued.json()["name"]
        seen: set[str] = set()
        for _ in range(20):
            try:
                messages = await subscription.fetch(64, timeout=1)
            except nats_py.errors.TimeoutError:
                continue
            for message in messages:
                await message.ack()
                seen.add(events_pb2.LoanIssued.FromString(message.data).loan.name)
            if name in seen:
                break
        assert name in seen
    finally:
        await client.close()
