"""The email a notification becomes: headers a person and a mailbox rely on, both parts, clean subjects."""

from __future__ import annotations

import dataclasses
import uuid
from email import message_from_bytes, policy

from services.notifications.data.email import SmtpSender, SmtpSettings
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification
from services.notifications.settings import NotificationsSettings

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
    parsed = message_from_bytes(sender.message(n), policy=policy.default)
    assert parsed["Subject"] == subject and parsed["To"] == "ada@example.org"
    assert parsed["Message-ID"] == f"<{n.id}@athenaeum.local>"
    assert parsed["X-Athenaeum-Event-Id"] == str(n.source_event_id) and parsed["X-Athenaeum-Kind"] == "hold_ready"
    assert parsed.get_body(("plain",)).get_content().strip() == "Привет, Ada"
    assert "<p>Привет</p>" in parsed.get_body(("html",)).get_content()


def _sent(n: Notification, **settings: str) -> bytes:
    fields = {"host": "127.0.0.1", "port": 25, "from_address": "library@athenaeum.local", **settings}
    return SmtpSender(SmtpSettings(**fields)).message(n)  # type: ignore[arg-type]


def test_the_message_is_well_formed_mime_with_crlf_lines_and_folded_headers() -> None:
    raw = _sent(_notification("«Мастер и Маргарита» ждёт вас " * 4), from_name="Библиотека №1")
    parsed = message_from_bytes(raw, policy=policy.default)
    assert [part.defects for part in parsed.walk()] == [[], [], []]
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"].addresses[0].display_name == "Библиотека №1"
    head, _, _ = raw.partition(b"\r\n\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare line feeds
    assert max(map(len, head.split(b"\r\n"))) <= 78


def test_a_line_break_in_the_subject_cannot_add_a_header() -> None:
    parsed = message_from_bytes(_sent(_notification("Ready\r\nBcc: someone@evil.example\n")), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Ready Bcc: someone@evil.example"


def test_a_notification_without_html_is_one_text_part() -> None:
    n = _notification("Ready")
    n = dataclasses.replace(n, content=dataclasses.replace(n.content, html=""))
    parsed = message_from_bytes(_sent(n), policy=policy.default)
    assert parsed.get_content_type() == "text/plain" and not parsed.is_multipart()
    assert parsed.get_content().strip() == "Привет, Ada" and parsed["Subject"] == "Ready"


def test_a_long_subject_is_split_between_characters_into_encoded_words_that_read_back_whole() -> None:
    for text in ("ё" * 100, "a" + "ё" * 100, "Книга «Война и мир» 📚 ждёт вас " * 3, "x" * 200):
        raw = _sent(_notification(text))
        head, _, _ = raw.partition(b"\r\n\r\n")
        assert max(map(len, head.split(b"\r\n"))) <= 78
        assert message_from_bytes(raw, policy=policy.default)["Subject"] == text.strip()


def _announcement() -> Notification:
    return dataclasses.replace(_notification("New from Булгаков"), kind=Kind.NEW_BOOK_BY_AUTHOR)


def test_every_letter_says_it_was_made_by_a_machine_so_vacation_responders_do_not_answer() -> None:
    for n in (_notification("Ready"), _announcement()):
        parsed = message_from_bytes(_sent(n, preferences_url="https://lib.example.org/#/account"))
        assert parsed["Auto-Submitted"] == "auto-generated"


def test_only_the_followed_author_announcements_carry_a_link_to_unsubscribe_and_no_one_click_claim() -> None:
    url = "https://lib.example.org/#/account"
    announcement = message_from_bytes(_sent(_announcement(), preferences_url=url))
    assert announcement["List-Unsubscribe"] == f"<{url}>"
    assert announcement["List-Unsubscribe-Post"] is None  # no sign-in-free POST to honour it
    transactional = message_from_bytes(_sent(_notification("Ready"), preferences_url=url))
    assert transactional["List-Unsubscribe"] is None
    assert message_from_bytes(_sent(_announcement()))["List-Unsubscribe"] is None  # no web address known


def test_the_unsubscribe_link_is_the_web_account_page() -> None:
    settings = NotificationsSettings(web_url="https://lib.example.org/")
    assert settings.smtp().preferences_url == "https://lib.example.org/#/account"
