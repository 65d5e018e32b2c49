"""The library's calendar through the real edge: an admin closes the day a new loan would be due, and the next
loan is due at the end of the following open day; a librarian may not close a day; readers see the calendar; a
late loan is fined for the open days only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from circulation import lend, new_book, reason
from sqlalchemy.ext.asyncio import create_async_engine

from services.loans.data.tables import loans

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


async def _due_on(mesh, loan: str, day: date) -> None:
    """Move a loan's due time back to the end of `day` (the mesh's library is in UTC), in the loans database."""
    engine = create_async_engine(mesh.database_url("loans"))
    try:
        async with engine.begin() as connection:
            due = datetime.combine(day, time(23, 59, 59), UTC)
            moved = await connection.execute(
                sa.update(loans).where(loans.c.id == uuid.UUID(loan.split("/")[1])).values(due_at=due)
            )
            assert moved.rowcount == 1  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


def test_a_late_loan_is_fined_only_for_the_days_the_library_was_open(
    mesh, edge: httpx.Client, admin, librarian, new_reader
) -> None:
    patron = new_reader()
    _, (barcode,) = new_book(edge, librarian)
    loan = lend(edge, librarian, patron.name, barcode=barcode)
    terms = loan["circulation_rule"]
    rule = edge.get(f"/v1/{terms}", headers=librarian.headers).json()
    due = datetime.now(UTC).date() - timedelta(days=10)
    closed = [due + timedelta(days=n) for n in (1, 2, 5, 6)]  # two weekends after the due date
    names = []
    try:
        for day in closed:
            created = edge.post("/v1/closedDays", json={"date": day.isoformat()}, headers=admin.headers)
            assert created.status_code == 200, created.text
            names.append(created.json()["name"])
        # Late only once the calendar is closed: the reconciler's accrual may look at any moment, and a fine
        # only grows.
        asyncio.run(_due_on(mesh, loan["name"], due))
        chargeable = max(10 - len(closed) - rule.get("grace_days", 0), 0)
        shown = edge.get(f"/v1/{loan['name']}", headers=patron.headers).json()
        assert (shown["overdue"], shown.get("overdue_days", 0)) == (True, chargeable), shown
        returned = edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
        assert returned.status_code == 200, returned.text
        assert returned.json().get("overdue_days", 0) == chargeable
    finally:
        for name in names:  # the calendar is the whole session's
            assert edge.delete(f"/v1/{name}", headers=admin.headers).status_code == 200
    cap = Decimal(rule["fine_cap"]) if rule.get("fine_cap") else None
    owed = Decimal(rule["fine_per_day"]) * chargeable
    fine = edge.get(f"/v1/{returned.json()['fine']}", headers=librarian.headers).json()
    assert Decimal(fine["amount"]) == (min(owed, cap) if cap is not None else owed) > 0, (rule, fine)
    again = edge.get(f"/v1/{loan['name']}", headers=patron.headers).json()
    assert again.get("overdue_days", 0) == chargeable  # opening the days again does not rewrite the return's count
