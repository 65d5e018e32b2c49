"""A new password ends the account's other sessions everywhere by the time the change is answered, as a sign-out
and a block do: the old access token's next call is refused by notifications, the catalog and loans alike (the
change used to answer before its revocations were on the bus, and a Follow with the old token was accepted for
some tens of milliseconds after it, in 8 of 8 tries). And ChangePassword takes a request_id: a retry of a change
whose answer was lost answers as the change did, not "the current password is wrong"."""

from __future__ import annotations

import uuid

import httpx
import pytest
from circulation import reason
from conftest import Account, register, sign_in

pytestmark = pytest.mark.e2e


def _new_password() -> str:
    return f"Fresh-Lantern-{uuid.uuid4().hex[:6]}"


def _next_calls(edge: httpx.Client, reader: Account) -> dict[str, httpx.Response]:
    """The old token's first call to each service after the answer, notifications' first."""
    author = f"Odoevtseva{uuid.uuid4().hex[:6]}, Irina"
    return {
        "notifications": edge.post(
            f"/v1/{reader.name}/followedAuthors", json={"author": author}, headers=reader.headers
        ),
        "catalog": edge.get("/v1/books", params={"page_size": 1}, headers=reader.headers),
        "loans": edge.get(f"/v1/{reader.name}/loans", params={"page_size": 1}, headers=reader.headers),
    }


def _refused_as_signed_out(answers: dict[str, httpx.Response]) -> dict[str, str]:
    return {service: f"{r.status_code} {reason(r)}" for service, r in answers.items()}


SIGNED_OUT = dict.fromkeys(("notifications", "catalog", "loans"), "401 SESSION_REVOKED")


def test_a_password_staff_set_ends_the_readers_sessions_in_every_service_by_the_answer(
    edge: httpx.Client, librarian
) -> None:
    for _ in range(3):
        reader = register(edge)
        changed = edge.post(
            f"/v1/{reader.name}:changePassword", json={"new_password": _new_password()}, headers=librarian.headers
        )
        assert changed.status_code == 200, changed.text
        assert _refused_as_signed_out(_next_calls(edge, reader)) == SIGNED_OUT


def test_the_owners_new_password_ends_their_other_sessions_everywhere_and_keeps_this_one(edge: httpx.Client) -> None:
    reader = register(edge)
    for _ in range(3):
        here = sign_in(edge, reader.email, reader.password)
        password = _new_password()
        body = {"current_password": reader.password, "new_password": password}
        changed = edge.post(f"/v1/{reader.name}:changePassword", json=body, headers=here.headers)
        assert changed.status_code == 200, changed.text
        assert _refused_as_signed_out(_next_calls(edge, reader)) == SIGNED_OUT
        kept = edge.get(f"/v1/{reader.name}/followedAuthors", headers=here.headers)
        assert kept.status_code == 200, kept.text
        reader = Account(reader.name, reader.email, password, here.access_token, here.refresh_token)


def test_a_password_change_sent_again_with_its_request_id_answers_as_the_first_did(edge: httpx.Client) -> None:
    reader = register(edge)
    body = {"current_password": reader.password, "new_password": _new_password(), "request_id": str(uuid.uuid4())}
    first = edge.post(f"/v1/{reader.name}:changePassword", json=body, headers=reader.headers)
    assert first.status_code == 200, first.text
    again = edge.post(f"/v1/{reader.name}:changePassword", json=body, headers=reader.headers)
    assert again.status_code == 200, again.text  # it was 403 WRONG_PASSWORD: the current password is the new one
    fresh = edge.post(
        f"/v1/{reader.name}:changePassword", json={**body, "request_id": str(uuid.uuid4())}, headers=reader.headers
    )
    assert fresh.status_code == 403 and reason(fresh) == "WRONG_PASSWORD", fresh.text  # another id: a new change
    assert sign_in(edge, reader.email, body["new_password"]).name == reader.name
