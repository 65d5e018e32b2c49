"""Account security through the real edge and mesh: a changed email is told to the previous address (users
publishes, notifications tells the mail sink: finding A6), a failed sign-in is found by its account (A10)."""

from __future__ import annotations

import httpx
import pytest
from test_events_through_the_edge import wait_for
from test_notifications_through_the_edge import register, until

pytestmark = pytest.mark.e2e
EVENTUALLY = 30.0
"""How long an effect carried by NATS and notifications' workers (a letter, a status) is waited for: 10 s was
tight on a busy two-core CI machine; a wait ends as soon as the effect shows."""


def test_a_moved_email_is_told_to_the_previous_address_in_part(edge: httpx.Client, librarian, mail_sink) -> None:
    patron = register(edge, librarian)
    old, local = patron["email"], patron["email"].split("@")[0]
    target = f"moved-{local}@example.net"
    request = {"user": {"email": target}, "update_mask": "email", "current_password": "Correct-Horse-42"}
    moved = edge.post("/v1/users/me:update", json=request, headers=patron["headers"])
    assert moved.status_code == 200, moved.text

    def notices() -> list[tuple[int, dict]]:
        found = enumerate(mail_sink.messages(), start=1)
        return [(n, m) for n, m in found if m["headers"].get("X-Athenaeum-Kind") == "email_changed"
                and (old in m["rcpt_tos"] or target in m["rcpt_tos"])]  # fmt: skip

    ((number, notice),) = until(notices, bool, seconds=EVENTUALLY)
    assert notice["rcpt_tos"] == [old]
    assert "m…@example.net" in mail_sink.message(number)["text"]


def test_a_failed_sign_in_is_found_by_its_account_without_the_email(edge: httpx.Client, librarian, new_reader) -> None:
    reader = new_reader()
    refused = edge.post("/v1/auth/login", json={"email": reader.email, "password": "Not-Mine-12345"})
    assert refused.status_code == 401, refused.text
    found = wait_for(edge, librarian, f'resource = "{reader.name}"', {"user_login_failed"})
    (failed,) = [e for e in found if e["type"] == "athenaeum.users.user_login_failed"]
    assert failed["subject"] == reader.name and failed["attributes"].get("reason") == "wrong_password"
    assert reader.email not in str(failed)
