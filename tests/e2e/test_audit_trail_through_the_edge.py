"""The audit trail through the real edge: a scripted run of real actions, each step on record with its actor
and trace; a stranger's failed sign-in; a reader taken out of their reading history."""

from __future__ import annotations

import uuid

import httpx
import pytest
from test_events_through_the_edge import list_events, wait_for

pytestmark = pytest.mark.e2e
STEPS = ("loan_issued", "loan_renewed", "loan_returned", "fine_assessed", "fine_paid")


def scripted_run(edge: httpx.Client, librarian, new_reader) -> tuple[str, str, object]:
    """Register, create a book, issue, renew, return, assess and pay a fine: real actions, in order."""
    reader = new_reader()
    book = edge.post("/v1/books", json={"title": f"Audit {uuid.uuid4().hex[:6]}"}, headers=librarian.headers)
    assert book.status_code == 200, book.text
    barcode = f"AU-{uuid.uuid4().hex[:12]}"
    copy = edge.post(f"/v1/{book.json()['name']}/copies", json={"barcode": barcode}, headers=librarian.headers)
    assert copy.status_code == 200, copy.text
    loan = edge.post("/v1/loans:issue", json={"patron": reader.name, "barcode": barcode}, headers=librarian.headers)
    assert loan.status_code == 200, loan.text
    loan_name = loan.json()["name"]
    assert edge.post(f"/v1/{loan_name}:renew", json={}, headers=reader.headers).status_code == 200
    assert edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers).status_code == 200
    fine = edge.post(
        "/v1/fines",
        json={
            "patron": reader.name,
            "loan": loan_name,
            "amount": "3.50",
            "kind": "FINE_KIND_DAMAGED_ITEM",
            "description": "torn page",
        },
        headers=librarian.headers,
    )
    assert fine.status_code == 200, fine.text
    paid = edge.post(f"/v1/{fine.json()['name']}:pay", json={"amount": "3.50"}, headers=librarian.headers)
    assert paid.status_code == 200, paid.text
    return loan_name, reader.name, reader


def in_order(events: list[dict], steps: tuple[str, ...]) -> list[dict]:
    """The first event of each step, oldest first."""
    oldest_first = list(reversed(events))
    times = [event["occur_time"] for event in oldest_first]
    assert times == sorted(times), "ListEvents is not newest first"
    return [next(e for e in oldest_first if e["type"].endswith("." + step)) for step in steps]


def test_the_audit_trail_shows_every_step_of_a_loan_with_its_actor_and_trace(edge, librarian, new_reader) -> None:
    loan, patron, _ = scripted_run(edge, librarian, new_reader)

    by_loan = wait_for(edge, librarian, f'resource = "{loan}"', set(STEPS))
    steps = in_order(by_loan, STEPS)
    assert [e["type"] for e in steps] == [f"athenaeum.loans.{step}" for step in STEPS]
    assert all(e["category"] == "EVENT_CATEGORY_AUDIT" and len(e["trace_id"]) == 32 for e in steps), steps
    issued, renewed, returned, assessed, paid = steps
    assert issued["actor"] == returned["actor"] == assessed["actor"] == paid["actor"] == librarian.name
    assert renewed["actor"] == patron
    assert issued["subject"] == loan and issued["attributes"]["loan.patron"] == patron
    assert len({e["trace_id"] for e in steps}) == len(steps), "each request is its own trace"
    # The catalog's check-out happened in the same request as the issue: the same trace.
    checkout = [e for e in by_loan if e["type"] == "athenaeum.catalog.copy_status_changed"]
    assert issued["trace_id"] in {e["trace_id"] for e in checkout}
    # ... and it is the librarian's doing there too (loans' call to the catalog names them: finding A10)
    assert {e["actor"] for e in checkout if e["trace_id"] in (issued["trace_id"], returned["trace_id"])} == {
        librarian.name
    }

    by_user = wait_for(edge, librarian, f'resource = "{patron}"', {"user_registered", *STEPS})
    registered, *rest = in_order(by_user, ("user_registered", *STEPS))
    assert (registered["actor"], registered["subject"]) == (patron, patron)
    assert [e["name"] for e in rest] == [e["name"] for e in steps]


def test_a_stranger_s_failed_sign_in_is_anonymous_s_against_the_account(edge, librarian, new_reader) -> None:
    """It was recorded as the reader's own doing (actor = the reader), with nothing of the real caller."""
    reader = new_reader()
    failed = edge.post("/v1/auth/login", json={"email": reader.email, "password": "Wrong-Password-1"})
    assert failed.status_code == 401, failed.text
    trail = wait_for(edge, librarian, f'resource = "{reader.name}"', {"user_login_failed"})
    found = [e for e in trail if e["type"] == "athenaeum.users.user_login_failed"]
    assert found, trail
    assert (found[0]["actor"], found[0]["subject"]) == ("anonymous", reader.name), found[0]
    assert found[0]["attributes"]["client_address"], found[0]


def test_an_admin_takes_a_reader_out_of_their_reading_history(edge, librarian, admin, new_reader) -> None:
    """Every loan record named the reader and the title for ever: now an admin can anonymise them, the
    catalog's records of their hold included; staff accounts are refused, and each call is on record."""
    loan, patron, reader = scripted_run(edge, librarian, new_reader)
    book = edge.get(f"/v1/{loan}", headers=librarian.headers).json()["book"]
    hold = edge.post("/v1/holds", json={"patron": patron, "book": book}, headers=reader.headers)
    assert hold.status_code == 200, hold.text
    cancelled = edge.post(f"/v1/{hold.json()['name']}:cancel", json={}, headers=reader.headers)
    assert cancelled.status_code == 200, cancelled.text
    wait_for(edge, librarian, f'resource = "{loan}"', set(STEPS))
    on_behalf = f'actor = "{patron}" AND type = "athenaeum.catalog.copy_status_changed"'
    assert wait_for(edge, librarian, on_behalf, {"copy_status_changed"}), "the catalog names the reader"
    body = {"patron": patron}
    refused = edge.post("/v1/events:anonymizePatronHistory", json=body, headers=librarian.headers)
    assert refused.status_code == 403, refused.text
    staff = edge.post("/v1/events:anonymizePatronHistory", json={"patron": librarian.name}, headers=admin.headers)
    assert staff.status_code == 400 and "NOT_A_READER" in staff.text, staff.text
    done = edge.post("/v1/events:anonymizePatronHistory", json=body, headers=admin.headers)
    assert done.status_code == 200 and int(done.json()["anonymized_count"]) >= len(STEPS) + 2, done.text
    by_loan = [
        e for e in list_events(edge, librarian, f'resource = "{loan}"') if e["type"].startswith("athenaeum.loans.")
    ]
    assert by_loan and all(patron not in repr(e) for e in by_loan), by_loan
    assert any(e["attributes"].get("loan.patron") == "users/anonymous" for e in by_loan), by_loan
    assert not list_events(edge, librarian, on_behalf)
    trail = list_events(edge, librarian, f'resource = "{patron}"')
    assert {e["type"] for e in trail} >= {"athenaeum.users.user_registered"}, "the account's own records stay"
    (anonymized,) = [e for e in trail if e["type"] == "athenaeum.events.patron_history_anonymized"]
    assert (anonymized["actor"], anonymized["attributes"]["anonymized_count"]) == (
        admin.name,
        done.json()["anonymized_count"],
    )
