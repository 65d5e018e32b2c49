"""Sign-up, sign-in, refresh and sign-out through the real edge, with the attacks the issue lists."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

ME = "/v1/users/me"


def _violations(response: httpx.Response) -> list[str]:
    return [
        violation["field"]
        for detail in response.json()["details"]
        if detail["@type"].endswith("google.rpc.BadRequest")
        for violation in detail["field_violations"]
    ]


def _reason(response: httpx.Response) -> str:
    (info,) = [d for d in response.json()["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    return info["reason"]


def test_registering_signs_the_reader_in(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    me = edge.get(ME, headers=reader.headers).json()
    assert me["role"] == "USER_ROLE_READER" and me["status"] == "USER_STATUS_ACTIVE"
    assert len(me["card_number"]) == 14 and me["email"] == reader.email


def test_a_duplicate_email_is_409_whatever_its_case(edge: httpx.Client, reader) -> None:
    again = edge.post("/v1/auth/register", json={"email": reader.email.upper(), "password": "Another-Pass-77"})
    assert again.status_code == 409
    assert _reason(again) == "EMAIL_TAKEN"


def test_invalid_email_and_weak_password_are_400_naming_both_fields(edge: httpx.Client) -> None:
    response = edge.post("/v1/auth/register", json={"email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    assert _violations(response) == ["email", "password"]


def test_self_registration_cannot_ask_for_a_staff_role(edge: httpx.Client, unique_email) -> None:
    # RegisterRequest has no role field at all: a client adding one is ignored (a reader is created).
    response = edge.post(
        "/v1/auth/register", json={"email": unique_email(), "password": "Correct-Horse-42", "role": "USER_ROLE_ADMIN"}
    )
    assert response.status_code == 200 and response.json()["user"]["role"] == "USER_ROLE_READER"


def _failed_login_seconds(edge: httpx.Client, email: str, password: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = edge.post("/v1/auth/login", json={"email": email, "password": password})
    return time.perf_counter() - started, response


def test_wrong_password_and_unknown_email_look_the_same(edge: httpx.Client, new_reader, unique_email) -> None:
    # Different accounts for each attempt, so the throttle (5 failures) never kicks in here.
    samples: dict[str, list[float]] = {"wrong_password": [], "unknown_email": []}
    answers = set()
    for _ in range(5):
        for kind, email in (("wrong_password", new_reader().email), ("unknown_email", unique_email())):
            seconds, response = _failed_login_seconds(edge, email, "Wrong-Password-1")
            samples[kind].append(seconds)
            answers.add((response.status_code, response.json()["message"], _reason(response)))
    assert answers == {(401, "wrong email or password", "BAD_CREDENTIALS")}
    ratio = statistics.median(samples["wrong_password"]) / statistics.median(samples["unknown_email"])
    # Both pay for one argon2 verification. Without the decoy an unknown email answers several times faster;
    # the wide band only absorbs a busy CI machine.
    assert 1 / 3 < ratio < 3, samples


def test_repeated_failed_sign_ins_are_throttled(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    codes = [
        edge.post("/v1/auth/login", json={"email": reader.email, "password": "Wrong-Password-1"}).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    # Locked even with the right password, until the lockout passes.
    right = edge.post("/v1/auth/login", json={"email": reader.email, "password": reader.password})
    assert right.status_code == 429 and _reason(right) == "TOO_MANY_ATTEMPTS"


def test_refresh_rotates_the_pair(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    refreshed = edge.post("/v1/auth/refresh", json={"refresh_token": reader.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()["tokens"]
    assert tokens["refresh_token"] != reader.refresh_token and tokens["token_type"] == "Bearer"
    assert edge.get(ME, headers={"authorization": f"Bearer {tokens['access_token']}"}).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    edge: httpx.Client, new_reader, wait_for_status
) -> None:
    reader = new_reader()
    newer = edge.post("/v1/auth/refresh", json={"refresh_token": reader.refresh_token}).json()["tokens"]
    replay = edge.post("/v1/auth/refresh", json={"refresh_token": reader.refresh_token})
    assert replay.status_code == 401 and _reason(replay) == "REFRESH_TOKEN_REUSED"
    # The thief's replay also ends the legitimate holder's newer tokens.
    assert edge.post("/v1/auth/refresh", json={"refresh_token": newer["refresh_token"]}).status_code == 401
    wait_for_status(edge, ME, newer["access_token"], 401)


def test_logout_revokes_the_access_token_at_the_edge(edge: httpx.Client, new_reader, wait_for_status) -> None:
    reader = new_reader()
    assert edge.get(ME, headers=reader.headers).status_code == 200
    assert edge.post("/v1/auth/logout", json={"refresh_token": reader.refresh_token}).status_code == 200
    wait_for_status(edge, ME, reader.access_token, 401)
    # Any service refuses the revoked session, and on any route, public ones included.
    wait_for_status(edge, "/v1/books?page_size=1", reader.access_token, 401)
    assert edge.post("/v1/auth/refresh", json={"refresh_token": reader.refresh_token}).status_code == 401
    # Logging out again is harmless.
    assert edge.post("/v1/auth/logout", json={"refresh_token": reader.refresh_token}).status_code == 200


def test_a_deactivated_account_can_no_longer_sign_in(
    edge: httpx.Client, new_reader, librarian, wait_for_status
) -> None:
    reader = new_reader()
    closed = edge.delete(f"/v1/{reader.name}", headers=librarian.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "USER_STATUS_DEACTIVATED"
    again = edge.post("/v1/auth/login", json={"email": reader.email, "password": reader.password})
    assert again.status_code == 403 and _reason(again) == "ACCOUNT_DEACTIVATED"
    wait_for_status(edge, ME, reader.access_token, 401)
