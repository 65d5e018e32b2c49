"""Page tokens are not signed, so a client may forge one: a token whose time is before the year 1 in UTC
(`0001-01-01T00:00:00+05:00`) reached the database and answered 500. Every list that resumes after a time
refuses such a token as a bad page_token (400) instead."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

BEFORE_THE_CALENDAR = "0001-01-01T00:00:00+05:00"


def _forged(token: str) -> str:
    """The token with every time of its cursor moved to before the calendar's first day (in UTC)."""
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    times = [i for i, value in enumerate(data["c"]) if isinstance(value, str) and value[:4].isdigit() and "T" in value]
    assert times, f"no time in the cursor {data['c']}"
    for index in times:
        data["c"][index] = BEFORE_THE_CALENDAR
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _next_token(edge: httpx.Client, path: str, params: dict[str, str], headers: dict[str, str]) -> str:
    deadline = time.monotonic() + 20  # notifications and audit events are written shortly after their cause
    while True:
        page = edge.get(path, params={**params, "page_size": "1"}, headers=headers)
        assert page.status_code == 200, page.text
        if token := page.json().get("next_page_token"):
            return token
        assert time.monotonic() < deadline, f"{path} never had a second page"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def two_of_everything(edge, admin) -> None:
    for _ in range(2):
        email = f"pages-{uuid.uuid4().hex[:8]}@example.org"
        edge.post("/v1/auth/register", json={"email": email, "password": "Correct-Horse-42"}).raise_for_status()
        edge.post("/v1/books", json={"title": f"Pages {email}"}, headers=admin.headers).raise_for_status()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/users", {}),
        ("/v1/books", {"order_by": "create_time desc"}),
        ("/v1/events", {}),
        ("/v1/notifications", {}),
    ],
)
def test_a_token_forged_with_a_time_before_the_calendar_is_a_bad_page_token(
    edge, admin, two_of_everything, path: str, params: dict[str, str]
) -> None:
    token = _next_token(edge, path, params, admin.headers)
    assert edge.get(path, params={**params, "page_size": "1", "page_token": token}, headers=admin.headers).is_success

    forged = edge.get(path, params={**params, "page_size": "1", "page_token": _forged(token)}, headers=admin.headers)

    assert forged.status_code == 400, forged.text
    violations = [v["field"] for d in forged.json()["details"] for v in d.get("field_violations", [])]
    assert violations == ["page_token"], forged.text


@pytest.mark.parametrize("text", ["\u0000", "\ud800"])
def test_a_public_list_s_token_forged_with_text_no_query_can_take_is_a_bad_page_token(
    edge, admin, two_of_everything, text: str
) -> None:
    """Anyone could have ListCopies answer 500 (and page the operators) with a NUL in a cursor."""
    book = edge.post("/v1/books", json={"title": f"Copies {uuid.uuid4().hex[:6]}"}, headers=admin.headers).json()
    for _ in range(2):
        copy = {"barcode": f"PT-{uuid.uuid4().hex[:10]}"}
        edge.post(f"/v1/{book['name']}/copies", json=copy, headers=admin.headers).raise_for_status()
    token = _next_token(edge, "/v1/books/-/copies", {}, {})
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data["c"] = [text for _ in data["c"]]
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    answer = edge.get("/v1/books/-/copies", params={"page_size": "1", "page_token": forged})
    assert answer.status_code == 400 and "page_token" in answer.text, answer.text
