"""One message per reader (finding N5), with real processes, Postgres, NATS and the local mail and SMS sinks:
twenty renewals are one letter and one SMS naming the twenty books, and twenty rows SENT with one Message-ID;
two readers, or two kinds, are never one message; a notice made after the window goes in the next message."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notifications_harness import Notifications, Patron, loan_event

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.integration
WINDOW_SECONDS = 3


@pytest.fixture(scope="module")
def notifications_settings() -> dict[str, str]:
    return {"ATHENAEUM_NOTICE_BATCH_WINDOW_SECONDS": str(WINDOW_SECONDS)}


def _renewal(patron: Patron, title: str) -> loans.LoanRenewed:
    """A renewal of a loan of its own copy (a batch names each copy once: the same barcode twice is one loan)."""
    now = datetime.now(UTC)
    barcode = f"31{uuid.uuid4().int % 10**9:09d}"
    loan = resources_pb2.Loan(name=f"loans/{uuid.uuid4()}", patron=patron.name, book_title=title,
                              barcode=barcode, due_time=timestamp(now + timedelta(days=14)))  # fmt: skip
    return loans.LoanRenewed(event_id=str(uuid.uuid4()), occur_time=timestamp(now), loan=loan,
                             previous_due_time=timestamp(now))  # fmt: skip


def _overdue(patron: Patron, title: str):
    event = loan_event(loans.LoanOverdue, patron, loan=f"loans/{uuid.uuid4()}", step=1)
    event.loan.book_title = title
    return event


def _letters(mail_sink, patron: Patron, since: int, kind: str) -> list[dict]:
    found = mail_sink.messages(since=since)
    return [m for m in found if patron.email in m["rcpt_tos"] and m["headers"].get("X-Athenaeum-Kind") == kind]


def _user_id(patron: Patron) -> uuid.UUID:
    return uuid.UUID(patron.name.split("/")[1])


async def _all_sent(notifications: Notifications, patron: Patron, kind: str, count: int) -> None:
    await notifications.eventually(
        lambda: notifications.count(kind=kind, recipient=patron, status="sent"), lambda n: n >= count, timeout=40
    )
    await asyncio.sleep(WINDOW_SECONDS + 1)  # time enough for a wrong extra message


async def test_twenty_renewals_are_one_letter_and_one_sms_naming_every_book(
    notifications: Notifications, mail_sink, sms_sink
) -> None:
    notifications.processes or notifications.start("n1")
    patron = await notifications.register(phone=f"+7999{uuid.uuid4().int % 10**7:07d}", sms=True)
    mail_since, sms_since = mail_sink.count(), sms_sink.count()
    titles = [f"Renewed Book {i:02d}" for i in range(20)]
    await notifications.publish_many("loans", [_renewal(patron, title) for title in titles])
    await _all_sent(notifications, patron, "loan_renewed", 40)
    letters = _letters(mail_sink, patron, mail_since, "loan_renewed")
    texts = [m for m in sms_sink.messages(since=sms_since) if m["to"] == patron.phone and "renewed" in m["body"]]
    assert len(letters) == 1, [m["headers"].get("Subject") for m in letters]
    assert len(texts) == 1, [m["body"] for m in texts]
    assert letters[0]["headers"]["Subject"] == "20 books renewed"
    text = mail_sink.message(letters[0]["n"])["text"]
    assert all(f"“{title}”" in text for title in titles), text
    assert texts[0]["body"].startswith("Athenaeum Library: 20 books renewed"), texts[0]["body"]
    assert '"Renewed Book 00", "Renewed Book 01", "Renewed Book 02" and 17 more.' in texts[0]["body"]
    rows = await notifications.rows(kind="loan_renewed", recipient_id=_user_id(patron))
    for channel in ("email", "sms"):
        mine = [row for row in rows if row.channel == channel]
        assert len(mine) == 20 and {row.status for row in mine} == {"sent"}
        assert len({row.provider_message_id for row in mine}) == 1 and mine[0].provider_message_id
    emails = {row.provider_message_id for row in rows if row.channel == "email"}
    assert emails == {letters[0]["headers"]["Message-ID"]}


async def test_two_readers_or_two_kinds_are_never_one_message(notifications: Notifications, mail_sink) -> None:
    notifications.processes or notifications.start("n1")
    ada, bob = await notifications.register(), await notifications.register()
    since = mail_sink.count()
    await notifications.publish_many("loans", [
        *(_renewal(ada, f"Ada's Book {i}") for i in range(3)),
        *(_overdue(ada, f"Ada's Late Book {i}") for i in range(2)),
        *(_renewal(bob, f"Bob's Book {i}") for i in range(2)),
    ])  # fmt: skip
    await _all_sent(notifications, ada, "loan_renewed", 3)
    await _all_sent(notifications, ada, "overdue", 2)
    await _all_sent(notifications, bob, "loan_renewed", 2)
    subjects = {
        (who, kind): [m["headers"]["Subject"] for m in _letters(mail_sink, patron, since, kind)]
        for who, patron in (("ada", ada), ("bob", bob))
        for kind in ("loan_renewed", "overdue")
    }
    assert subjects == {
        ("ada", "loan_renewed"): ["3 books renewed"],
        ("ada", "overdue"): ["Overdue: 2 books"],
        ("bob", "loan_renewed"): ["2 books renewed"],
        ("bob", "overdue"): [],
    }


async def test_a_renewal_made_after_the_window_goes_in_the_next_message(
    notifications: Notifications, mail_sink
) -> None:
    notifications.processes or notifications.start("n1")
    patron = await notifications.register()
    since = mail_sink.count()
    await notifications.publish_many("loans", [_renewal(patron, f"Early Book {i}") for i in range(2)])
    await _all_sent(notifications, patron, "loan_renewed", 2)
    await notifications.publish("loans", _renewal(patron, "Late Book"))
    await _all_sent(notifications, patron, "loan_renewed", 3)
    letters = _letters(mail_sink, patron, since, "loan_renewed")
    assert len(letters) == 2
    first, second = (mail_sink.message(m["n"])["text"] for m in letters)
    assert letters[0]["headers"]["Subject"] == "2 books renewed" and "Late Book" not in first
    assert "Late Book" in second and "Early Book" not in second
