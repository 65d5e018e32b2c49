"""The library's calendar through the real edge: an admin closes the day a new loan would be due, and the next
loan is due at the end of the following open day; a librarian may not close a day; readers see the calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
import pytest
from circulation import lend, new_book, reason

pytestmark = pytest.mark.e2e


def _due_day(loan: dict[str, object]) -> date:
    """The library's date a loan is due on (the mesh's library is in UTC: due at 23:59:59Z)."""
    due = str(loan["due_time"])
    assert due.endswith("T23:59:59Z"), due
    return datetime.fromisoformat(due.replace("Z", "+00:00")).date()


def test_a_day_an_admin_closes_moves_the_due_date_of_new_loans_to_the_next_open_day(
    edge: httpx.Client, admin, librarian, new_reader
) -> None:
    patron, other = new_reader(), new_reader()
    book, _ = new_book(edge, librarian, copies=2)
    due = _due_day(lend(edge, librarian, patron.name, book=book))
    body = {"date": due.isoformat(), "reason": "Founders' day"}

    refused = edge.post("/v1/closedDays", json=body, headers=librarian.headers)
    assert refused.status_code == 403, refused.text

    created = edge.post("/v1/closedDays", json=body, headers=admin.headers)
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    try:
        assert name == f"closedDays/{due.isoformat()}" and created.json()["reason"] == "Founders' day"
        again = edge.post("/v1/closedDays", json=body, headers=admin.headers)
        assert again.status_code == 409 and reason(again) == "CLOSED_DAY_EXISTS", again.text

        assert _due_day(lend(edge, librarian, other.name, book=book)) == due + timedelta(days=1)

        params = {"start_date": due.isoformat(), "end_date": due.isoformat()}
        listed = edge.get("/v1/closedDays", params=params, headers=other.headers)
        assert listed.status_code == 200, listed.text
        assert [day["name"] for day in listed.json()["closed_days"]] == [name]
    finally:
        deleted = edge.delete(f"/v1/{name}", headers=admin.headers)  # the calendar is the whole session's
        assert deleted.status_code == 200, deleted.text
    gone = edge.delete(f"/v1/{name}", headers=admin.headers)
    assert gone.status_code == 404, gone.text


def test_a_date_far_ahead_or_malformed_is_refused(edge: httpx.Client, admin) -> None:
    for text in ("1999-12-31", "2999-01-01", "2027-02-30", "01/01/2027"):
        refused = edge.post("/v1/closedDays", json={"date": text}, headers=admin.headers)
        assert refused.status_code == 400, (text, refused.text)
