"""The email a notification becomes: headers a person and a mailbox rely on, both parts, clean subjects."""

from __future__ import annotations

import uuid
from email import message_from_bytes, policy

from services.notifications.data.email import SmtpSender, SmtpSettings
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification

from .test_domain import NOON, POLICY


def _notification(subject: str) -> Notification:
    return Notification.queue(
        recipient_id=uuid.uuid4(), channel=Channel.EMAIL, address="ada@example.org", kind=Kind.HOLD_READY,
        content=Content(subject, "Привет, Ada", "<p>Привет</p>", "hold_ready_email_ru", 1, "ru"), params={},
        now=NOON, not_before=NOON, policy=POLICY, source_event_id=uuid.uuid4(),
    )  # fmt: skip


def test_an_email_carries_both_parts_a_stable_message_id_and_its_event() -> None:
    subject = "«Мастер и Маргарита» ждёт вас — и это очень длинная тема письма, длиннее одной строки"
    n = _notification(subject)
    sender = SmtpSender(SmtpSettings(host="127.0.0.1", port=25, from_address="library@athenaeum.local"))
    parsed = message_from_bytes(sender.message(n).as_bytes(), policy=policy.default)
    assert parsed["Subject"] == subject and parsed["To"] == "ada@example.org"
    assert parsed["Message-ID"] == f"<{n.id}@athenaeum.local>" == str(sender.message(n)["Message-ID"])
    assert parsed["X-Athenaeum-Event-Id"] == str(n.source_event_id) and parsed["X-Athenaeum-Kind"] == "hold_ready"
    assert parsed.get_body(("plain",)).get_content().strip() == "Привет, Ada"
    assert "<p>Привет</p>" in parsed.get_body(("html",)).get_content()
