"""Through the real mesh: a copy that comes back to the shelf other than by a return (from repair) is offered to
its title's queue by the reconciler's next pass, which asks the catalog which queued titles have a copy
(BatchGetBookAvailability, through loans' sidecar) rather than trying a reservation for every queue."""

from __future__ import annotations

import httpx
import pytest
from circulation import copies_of, new_book, place_hold, reconcile

pytestmark = pytest.mark.e2e


def _set_status(edge: httpx.Client, staff, copy: str, status: str) -> None:
    body = {"status": status}
    changed = edge.patch(f"/v1/{copy}", params={"update_mask": "status"}, json=body, headers=staff.headers)
    assert changed.status_code == 200, changed.text


def test_a_copy_back_from_repair_is_given_to_the_queue_by_the_next_reconciliation(
    edge: httpx.Client, admin, librarian, new_reader
) -> None:
    book, (barcode,) = new_book(edge, librarian)
    copy = copies_of(edge, librarian, book)[barcode]["name"]
    _set_status(edge, librarian, copy, "COPY_STATUS_DAMAGED")
    hold = place_hold(edge, new_reader(), book)
    assert hold["status"] == "HOLD_STATUS_WAITING", hold
    _set_status(edge, librarian, copy, "COPY_STATUS_AVAILABLE")
    report = reconcile(edge, admin)  # (or the scheduler's pass, if it ran in between)
    assert report.get("holds_made_ready", 0) in (0, 1), report
    served = edge.get(f"/v1/{hold['name']}", headers=librarian.headers).json()
    assert (served["status"], served.get("copy")) == ("HOLD_STATUS_IN_TRANSIT", copy), served
    assert reconcile(edge, admin).get("holds_made_ready", 0) == 0
