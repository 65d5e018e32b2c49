"""A forgotten password through the real edge and mesh (finding F14): the reset link arrives in the mail sink,
sets a new password once, the old one stops working; an unknown address is answered the same; the token
never reaches the audit trail nor staff's view of the notification. Staff set a reader's password too."""

from __future__ import annotations

import re

import httpx
import pytest
from test_events_through_the_edge import wait_for
from test_notifications_through_the_edge import register, until

pytestmark = pytest.mark.e2e

OLD, NEW = "Correct-Horse-42", "Fresh-Lantern-93"
LINK = re.compile(r"/#/reset-password\?token=([A-Za-z0-9_-]{43,})")


def _reset_mails(mail_sink, email: str) -> list[int]:
    found = enumerate(mail_sink.messages(), start=1)
    return [n for n, m in found if m["headers"].get("X-Athenaeum-Kind") == "password_reset" and email in m["rcpt_tos"]]


def _sign_in(edge: httpx.Client, email: str, password: str) -> int:
    return edge.post("/v1/auth/login", json={"email": email, "password": password}).status_code


def test_a_reader_resets_a_forgotten_password_by_the_mailed_link(edge: httpx.Client, librarian, mail_sink) -> None:
    reader = register(edge, librarian)
    email, name = reader["email"], reader["user"]["name"]
    asked = edge.post("/v1/auth/password:requestReset", json={"email": email.upper()})
    unknown = edge.post("/v1/auth/password:requestReset", json={"email": f"nobody-{email}"})
    assert (asked.status_code, asked.text) == (unknown.status_code, unknown.text) == (200, "{}")

    (number,) = until(lambda: _reset_mails(mail_sink, email), bool, seconds=15)
    mail = mail_sink.message(number)
    (token,) = set(LINK.findall(mail["text"]))
    assert LINK.search(mail["html"])

    reset = edge.post("/v1/auth/password:reset", json={"token": token, "new_password": NEW})
    assert reset.status_code == 200, reset.text
    assert _sign_in(edge, email, OLD) == 401
    assert _sign_in(edge, email, NEW) == 200
    assert edge.get("/v1/users/me", headers=reader["headers"]).status_code == 401  # signed out everywhere

    again = edge.post("/v1/auth/password:reset", json={"token": token, "new_password": "Third-Kettle-51"})
    assert again.status_code == 400 and "RESET_TOKEN_INVALID" in again.text, again.text
    assert _sign_in(edge, email, NEW) == 200

    audit = wait_for(edge, librarian, f'resource = "{name}"', {"password_reset_requested", "password_changed"})
    assert {"password_reset_requested", "password_changed"} <= {e["type"].rsplit(".", 1)[-1] for e in audit}
    assert token not in str(audit)
    shown = edge.get(f"/v1/{name}/notifications", headers=librarian.headers)
    assert shown.status_code == 200 and "password_reset" in shown.text and token not in shown.text, shown.text


def test_staff_set_a_readers_new_password_and_the_reader_is_told(edge: httpx.Client, librarian, mail_sink) -> None:
    reader = register(edge, librarian)
    email, name = reader["email"], reader["user"]["name"]
    changed = edge.post(
        f"/v1/{name}:changePassword", json={"name": name, "new_password": NEW}, headers=librarian.headers
    )
    assert changed.status_code == 200, changed.text
    assert _sign_in(edge, email, OLD) == 401 and _sign_in(edge, email, NEW) == 200
    assert edge.get("/v1/users/me", headers=reader["headers"]).status_code == 401

    def told() -> list[dict]:
        return [m for m in mail_sink.messages()
                if m["headers"].get("X-Athenaeum-Kind") == "password_changed" and email in m["rcpt_tos"]]  # fmt: skip

    assert until(told, bool, seconds=15)
    audit = wait_for(edge, librarian, f'resource = "{name}"', {"password_changed"})
    (event,) = [e for e in audit if e["type"].endswith("password_changed")]
    assert event["actor"] == librarian.name, event
