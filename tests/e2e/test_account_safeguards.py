"""Account changes through the real edge: a demotion takes the old rights away at once, and one's own email
moves only with one's password (sent in a body, never a URL)."""

from __future__ import annotations

import httpx
import pytest
from conftest import create_account, sign_in
from test_rest_errors import assert_status_json

from athenaeum.users.v1 import users_pb2

pytestmark = pytest.mark.e2e
INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED = 3, 7, 16


def test_a_demoted_librarian_loses_the_old_rights_at_once(mesh, edge: httpx.Client, admin, wait_for_status) -> None:
    password = "Desk-Duty-2024"
    email = create_account(mesh, admin, role=users_pb2.USER_ROLE_LIBRARIAN, password=password, label="demoted")
    librarian = sign_in(edge, email, password)
    assert edge.get("/v1/users", headers=librarian.headers).status_code == 200  # staff may list users

    demoted = edge.patch(f"/v1/{librarian.name}", params={"update_mask": "role"}, json={"role": "USER_ROLE_READER"},
                         headers=admin.headers)  # fmt: skip
    assert demoted.status_code == 200, demoted.text

    wait_for_status(edge, "/v1/users/me", librarian.access_token, 401)  # the session that carried "librarian"
    refused = edge.post("/v1/books", json={"title": "Not any more"}, headers=librarian.headers)
    body = assert_status_json(refused, 401, UNAUTHENTICATED)
    assert any(d.get("reason") == "SESSION_REVOKED" for d in body["details"])
    again = sign_in(edge, email, password)  # a new session carries the new role
    assert edge.get("/v1/users", headers=again.headers).status_code == 403


def _change_email(edge: httpx.Client, reader, email: str, **body: str) -> httpx.Response:
    request = {"user": {"email": email}, "update_mask": "email", **body}
    return edge.post("/v1/users/me:update", json=request, headers=reader.headers)


def test_ones_own_email_moves_only_with_ones_password(edge: httpx.Client, new_reader, unique_email) -> None:
    reader = new_reader()
    target = unique_email()
    missing = assert_status_json(_change_email(edge, reader, target), 400, INVALID_ARGUMENT)
    assert "current_password" in missing["message"]
    wrong = _change_email(edge, reader, target, current_password="Not-My-Password-1")
    assert any(
        d.get("reason") == "WRONG_PASSWORD" for d in assert_status_json(wrong, 403, PERMISSION_DENIED)["details"]
    )
    assert edge.get("/v1/users/me", headers=reader.headers).json()["email"] == reader.email

    moved = _change_email(edge, reader, target, current_password=reader.password)
    assert moved.status_code == 200 and moved.json()["email"] == target
    assert sign_in(edge, target, reader.password)


def test_staff_move_a_patrons_email_without_it(edge: httpx.Client, librarian, new_reader, unique_email) -> None:
    reader, target = new_reader(), unique_email()
    moved = edge.patch(f"/v1/{reader.name}", params={"update_mask": "email"}, json={"email": target},
                       headers=librarian.headers)  # fmt: skip
    assert moved.status_code == 200 and moved.json()["email"] == target


def test_a_past_expire_time_ends_the_sessions_at_once(
    edge: httpx.Client, librarian, new_reader, wait_for_status
) -> None:
    reader = new_reader()
    lapsed = edge.patch(f"/v1/{reader.name}", params={"update_mask": "expire_time"},
                        json={"expire_time": "2020-01-01T00:00:00Z"}, headers=librarian.headers)  # fmt: skip
    assert lapsed.status_code == 200 and lapsed.json()["status"] == "USER_STATUS_EXPIRED", lapsed.text
    wait_for_status(edge, "/v1/users/me", reader.access_token, 401)
    expired = edge.get("/v1/users", params={"status": "USER_STATUS_EXPIRED", "query": reader.email},
                       headers=librarian.headers)  # fmt: skip
    assert [user["name"] for user in expired.json()["users"]] == [reader.name]


@pytest.mark.parametrize("body", [{}, {"status": "USER_STATUS_UNSPECIFIED"}, {"status": 42}])
def test_a_status_the_mask_names_but_the_body_leaves_unspecified_is_refused(
    edge: httpx.Client, librarian, new_reader, body: dict
) -> None:
    reader = new_reader()
    blocked = {"status": "USER_STATUS_BLOCKED", "status_reason": "unpaid fines"}
    assert edge.patch(f"/v1/{reader.name}", params={"update_mask": "status,status_reason"}, json=blocked,
                      headers=librarian.headers).status_code == 200  # fmt: skip
    refused = edge.patch(f"/v1/{reader.name}", params={"update_mask": "status"}, json=body, headers=librarian.headers)
    assert "user.status" in assert_status_json(refused, 400, INVALID_ARGUMENT)["message"]
    assert edge.get(f"/v1/{reader.name}", headers=librarian.headers).json()["status"] == "USER_STATUS_BLOCKED"


def test_staff_give_an_account_made_without_a_password_its_first_one(
    edge: httpx.Client, librarian, unique_email
) -> None:
    email, password = unique_email(), "Desk-One-Pass-1"
    made = edge.post(
        "/v1/users", json={"user": {"email": email, "display_name": "Desk One"}}, headers=librarian.headers
    )
    assert made.status_code == 200, made.text
    first = edge.post(f"/v1/{made.json()['name']}:changePassword", json={"new_password": password},
                      headers=librarian.headers)  # fmt: skip
    assert first.status_code == 200, first.text
    assert sign_in(edge, email, password).name == made.json()["name"]
