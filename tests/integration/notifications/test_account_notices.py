"""Security notices of an account's changes, as the service runs: real process, NATS, Postgres, mail sink."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from notifications_harness import Notifications

from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.integration


async def test_a_changed_email_is_told_to_the_previous_address_and_not_to_the_new_one(
    notifications: Notifications, mail_sink
) -> None:
    notifications.processes or notifications.start("n1")
    patron = await notifications.register()
    since = mail_sink.count()
    moved = f"m{uuid.uuid4().hex[:8]}@example.net"
    user = users_pb2.User(name=patron.name, email=moved, display_name="Patron", etag='W/"2"',
                          status=users_pb2.USER_STATUS_ACTIVE,
                          notification_preferences=users_pb2.NotificationPreferences(email_opt_in=False))  # fmt: skip
    event = users.UserUpdated(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), user=user)
    event.update_mask.paths.extend(["email", "notification_preferences"])
    await notifications.publish("users", event)

    def notices() -> list[tuple[int, dict]]:
        found = enumerate(mail_sink.messages(since=since), start=since + 1)
        return [(n, m) for n, m in found if m["headers"].get("X-Athenaeum-Kind") == "email_changed"]

    ((number, notice),) = await notifications.eventually(notices, bool, timeout=30)
    assert notice["rcpt_tos"] == [patron.email]
    text = mail_sink.message(number)["text"]
    assert f"{moved[0]}…@example.net" in text and moved not in text
    await asyncio.sleep(1)  # nothing else follows: the new address is not told
    assert len(notices()) == 1
