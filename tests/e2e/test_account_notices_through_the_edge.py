"""Security notices of account changes through the real edge and mesh: users publishes, notifications tells
the mail sink (finding A6)."""

from __future__ import annotations

import httpx
import pytest
from test_notifications_through_the_edge import register, until

pytestmark = pytest.mark.e2e


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

    ((number, notice),) = until(notices, bool, seconds=10)
    assert notice["rcpt_tos"] == [old]
    assert "m…@example.net" in mail_sink.message(number)["text"]
