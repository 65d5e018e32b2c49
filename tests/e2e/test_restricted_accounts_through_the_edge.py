"""A BLOCKED or EXPIRED reader signs in through the real edge to see why, what they have out and what they
owe; every change stays refused (the token is read-only; the desk's for them by eligibility) but giving up or
protecting what is their own: cancelling a hold, changing the password."""

from __future__ import annotations

import httpx
import pytest
from circulation import lend, new_book, reason
from conftest import create_account, sign_in

from athenaeum.users.v1 import users_pb2

pytestmark = pytest.mark.e2e

ME = "/v1/users/me"


def _restrict(edge: httpx.Client, staff, patron: str, **change: str) -> None:
    changed = edge.patch(f"/v1/{patron}", params={"update_mask": ",".join(change)}, json=change, headers=staff.headers)
    assert changed.status_code == 200, changed.text


def test_a_blocked_reader_signs_in_reads_their_records_and_changes_nothing(
    edge: httpx.Client, librarian, new_reader, wait_for_status
) -> None:
    reader = new_reader()
    book, (barcode, _) = new_book(edge, librarian, copies=2)
    loan = lend(edge, librarian, reader.name, barcode=barcode)
    wanted, _ = new_book(edge, librarian, copies=1)
    placed = edge.post("/v1/holds", json={"patron": reader.name, "book": wanted}, headers=reader.headers)
    assert placed.status_code == 200, placed.text
    charged = edge.post("/v1/fines", json={"patron": reader.name, "amount": "3.00", "kind": "FINE_KIND_DAMAGED_ITEM"},
                        headers=librarian.headers)  # fmt: skip
    assert charged.status_code == 200, charged.text
    _restrict(edge, librarian, reader.name, status="USER_STATUS_BLOCKED", status_reason="Повреждённая книга")
    wait_for_status(edge, ME, reader.access_token, 401)  # the token from before the block is over

    blocked = sign_in(edge, reader.email, reader.password)
    me = edge.get(ME, headers=blocked.headers).json()
    assert (me["status"], me["status_reason"]) == ("USER_STATUS_BLOCKED", "Повреждённая книга")
    loans = edge.get(f"/v1/{reader.name}/loans", headers=blocked.headers)
    assert [each["name"] for each in loans.json()["loans"]] == [loan["name"]], loans.text
    fines = edge.get(f"/v1/{reader.name}/fines", headers=blocked.headers)
    assert fines.status_code == 200 and fines.json()["outstanding_total"] == "3.00", fines.text
    assert edge.get(f"/v1/{reader.name}/holds", headers=blocked.headers).status_code == 200
    assert edge.get("/v1/users", headers=blocked.headers).status_code == 403  # still only their own

    renew = edge.post(f"/v1/{loan['name']}:renew", json={}, headers=blocked.headers)
    hold = edge.post("/v1/holds", json={"patron": reader.name, "book": book}, headers=blocked.headers)
    contact = edge.patch(ME, params={"update_mask": "phone"}, json={"phone": "+79991234567"}, headers=blocked.headers)
    for refused in (renew, hold, contact):
        assert refused.status_code == 403 and reason(refused) == "ACCOUNT_RESTRICTED", refused.text
    # The desk cannot do it for them either: the existing eligibility checks refuse.
    for_them = (
        edge.post(f"/v1/{loan['name']}:renew", json={}, headers=librarian.headers),
        edge.post("/v1/holds", json={"patron": reader.name, "book": book}, headers=librarian.headers),
        edge.post("/v1/loans:issue", json={"patron": reader.name, "book": book}, headers=librarian.headers),
    )
    for refused in for_them:
        assert refused.status_code == 400 and reason(refused) == "PATRON_NOT_ELIGIBLE", refused.text

    # What is their own to give up or protect, they may: a hold they cannot collect keeps its copy from the next
    # reader, and a password they fear is known must be changeable.
    cancelled = edge.post(f"/v1/{placed.json()['name']}:cancel", json={}, headers=blocked.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "HOLD_STATUS_CANCELLED", cancelled.text
    password = edge.post(f"/v1/{reader.name}:changePassword", headers=blocked.headers,
                         json={"current_password": reader.password, "new_password": "Another-Horse-43"})  # fmt: skip
    assert password.status_code == 200, password.text

    again = sign_in(edge, reader.email, "Another-Horse-43")
    assert edge.post("/v1/auth/logout", json={"refresh_token": again.refresh_token}).status_code == 200
    wait_for_status(edge, ME, again.access_token, 401)


def test_an_expired_member_signs_in_to_see_what_to_bring_back(edge: httpx.Client, librarian, new_reader) -> None:
    reader = new_reader()
    _restrict(edge, librarian, reader.name, expire_time="2020-01-01T00:00:00Z")
    login = edge.post("/v1/auth/login", json={"email": reader.email, "password": reader.password})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["status"] == "USER_STATUS_EXPIRED"
    expired = sign_in(edge, reader.email, reader.password)
    assert edge.get(f"/v1/{reader.name}/loans", headers=expired.headers).status_code == 200
    refreshed = edge.post("/v1/auth/refresh", json={"refresh_token": expired.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    renewed = {"authorization": f"Bearer {refreshed.json()['tokens']['access_token']}"}
    assert reason(edge.patch(ME, params={"update_mask": "phone"}, json={"phone": "+79991234567"},
                             headers=renewed)) == "ACCOUNT_RESTRICTED"  # fmt: skip


def test_a_blocked_librarian_signs_in_as_a_reader_of_their_own_records_only(
    edge: httpx.Client, admin, librarian, mesh
) -> None:
    password = "Desk-Duty-2025"
    email = create_account(mesh, admin, role=users_pb2.USER_ROLE_LIBRARIAN, password=password, label="blocked-lib")
    staff = sign_in(edge, email, password)
    _restrict(edge, admin, staff.name, status="USER_STATUS_BLOCKED", status_reason="on leave")
    blocked = sign_in(edge, email, password)
    assert edge.get(ME, headers=blocked.headers).json()["role"] == "USER_ROLE_LIBRARIAN"  # the account's own
    assert edge.get("/v1/users", headers=blocked.headers).status_code == 403  # but no staff reads
    assert edge.get("/v1/loans", headers=blocked.headers).status_code == 403
