"""Claims and outcomes in the real Postgres: a group of outcomes is stored in one statement, each on its own
row, and an outcome of a claim another worker has since taken over is not stored over that worker's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifications.api import events
from services.notifications.app import delivering
from services.notifications.app.notifying import Rules, tell
from services.notifications.app.ports import NotificationFilter
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.trial_render import inspected_in_process
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import Failed, RetryPolicy, Sent, SmsPolicy
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification, Status
from services.notifications.domain.occurrences import Ending, Intake
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.support.runtime.clock import FixedClock
from services.support.runtime.engine import session_factory
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
RULES = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None))
LEASE = timedelta(seconds=30)

UnitOfWork = Callable[[], SqlNotificationsUnitOfWork]


@pytest.fixture
async def uow(postgres) -> AsyncIterator[UnitOfWork]:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications_store")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    engine = create_async_engine(url)
    cache = TemplateCache(BUILTIN)
    yield lambda: SqlNotificationsUnitOfWork(  # as the service's: on the driver's own transaction
        session_factory(engine), encode=events.encode, templates=cache, on_driver=True
    )
    await engine.dispose()


async def _queue(uow: UnitOfWork, count: int, *, recipient_id: uuid.UUID | None = None, sent_by: str = "") -> None:
    content = Content("Ready", "Your book", "", "hold_ready_email_en", 1, "en")
    queued = [
        Notification.queue(
            recipient_id=recipient_id or uuid.uuid4(),
            channel=Channel.EMAIL,
            address=f"reader-{n}@example.org",
            kind=Kind.HOLD_READY,
            content=content,
            params={},
            now=NOW,
            not_before=NOW,
            policy=RetryPolicy(),
            source_event_id=uuid.uuid4(),
            sent_by=sent_by,
        )
        for n in range(count)
    ]
    async with uow() as work:
        await work.notifications.add_many(queued)
        await work.commit()


async def _claim(uow: UnitOfWork, worker: str, *, at: datetime = NOW) -> list[Notification]:
    command = delivering.ClaimDue(Channel.EMAIL, 10, worker, LEASE)
    return await delivering.claim_due(command, uow=uow(), clock=FixedClock(at), rules=RULES)


async def _record(uow: UnitOfWork, worker: str, attempts: list[delivering.Attempt]) -> None:
    await delivering.record_attempts(attempts, worker=worker, uow=uow(), clock=FixedClock(NOW), rules=RULES)


async def _stored(uow: UnitOfWork, notification: Notification) -> Notification:
    async with uow() as work:
        return await work.notifications.get(notification.id)


async def test_each_outcome_of_a_group_is_stored_on_its_own_row(uow) -> None:
    await _queue(uow, 3)
    first, second, third = await _claim(uow, "w1")
    versions = [n.version for n in (first, second, third)]
    await _record(uow, "w1", [
        delivering.Attempt(first, Sent("<1@example.org>")),
        delivering.Attempt(second, Failed("451 try later", transient=True)),
        delivering.Attempt(third, Failed("550 no such user", transient=False)),
    ])  # fmt: skip
    sent, waiting, failed = [await _stored(uow, n) for n in (first, second, third)]
    assert (sent.status, sent.provider_message_id, sent.sent_at, sent.attempts) == (
        Status.SENT, "<1@example.org>", NOW, 1
    )  # fmt: skip
    assert waiting.status == Status.QUEUED and "451 try later" in waiting.last_error
    assert waiting.next_attempt_at > NOW and waiting.attempts == 1
    assert failed.status == Status.FAILED and "550 no such user" in failed.last_error
    assert [n.version for n in (sent, waiting, failed)] == [version + 1 for version in versions]
    assert await _claim(uow, "w2") == []  # the one still queued waits for its next try, unclaimed


async def test_an_outcome_is_not_stored_over_a_claim_another_worker_took_over(uow) -> None:
    await _queue(uow, 1)
    (late,) = await _claim(uow, "w1")
    (taken,) = await _claim(uow, "w2", at=NOW + LEASE + timedelta(seconds=1))  # w1's lease lapsed
    await _record(uow, "w1", [delivering.Attempt(late, Sent("<late@example.org>"))])
    assert (await _stored(uow, taken)).status == Status.QUEUED  # w2's to record
    await _record(uow, "w2", [delivering.Attempt(taken, Sent("<w2@example.org>"))])
    stored = await _stored(uow, taken)
    assert stored.status == Status.SENT and stored.provider_message_id == "<w2@example.org>"


async def test_a_claim_kept_while_its_send_waits_is_not_taken_by_another_worker(uow) -> None:
    """The end of a letter may take 10 minutes to be answered: the sender keeps extending its claim."""
    await _queue(uow, 1)
    (waiting,) = await _claim(uow, "w1")
    later = NOW + LEASE - timedelta(seconds=1)
    await delivering.extend_claims([waiting.id], worker="w1", lease=LEASE, uow=uow(), clock=FixedClock(later))
    await delivering.extend_claims([waiting.id], worker="w2", lease=LEASE * 10, uow=uow(), clock=FixedClock(later))
    assert await _claim(uow, "w2", at=NOW + LEASE + timedelta(seconds=1)) == []  # w1 still holds it
    (taken,) = await _claim(uow, "w2", at=later + LEASE + timedelta(seconds=1))  # w2's extension did nothing
    assert taken.id == waiting.id


async def _recipient_is(uow: UnitOfWork, recipient: Recipient) -> None:
    async with uow() as work:
        await work.recipients.save(recipient)
        await work.commit()


async def test_a_claim_follows_the_recipient_as_they_are_now(uow) -> None:
    moved, closed = uuid.uuid4(), uuid.uuid4()
    await _queue(uow, 1, recipient_id=moved)
    await _queue(uow, 1, recipient_id=closed)
    await _recipient_is(uow, Recipient(moved, email="moved@example.org", status=AccountStatus.ACTIVE))
    await _recipient_is(uow, Recipient(closed, email="x@example.org", status=AccountStatus.DEACTIVATED))
    (claimed,) = await _claim(uow, "w1")
    assert claimed.recipient_id == moved and claimed.address == "moved@example.org"
    assert (await _stored(uow, claimed)).address == "moved@example.org"
    await _record(uow, "w1", [delivering.Attempt(claimed, Sent("<1@example.org>"))])  # the claim is still w1's
    assert (await _stored(uow, claimed)).status == Status.SENT
    async with uow() as work:
        (suppressed,) = await work.notifications.list_newest_first(
            NotificationFilter(recipient_id=closed), after=None, limit=1
        )
    assert suppressed.status == Status.SUPPRESSED and suppressed.suppress_reason == "the account is closed"
    assert await _claim(uow, "w2", at=NOW + LEASE + timedelta(seconds=1)) == []


async def test_sms_sent_recently_are_counted_per_account_and_per_number(uow) -> None:
    ada, bob, carol = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    content = Content("", "Your book", "", "hold_ready_sms_en", 1, "en")
    texts = [
        Notification.queue(
            recipient_id=person, channel=Channel.SMS, address=number, kind=Kind.HOLD_READY, content=content,
            params={}, now=at, not_before=at, policy=RetryPolicy(), source_event_id=uuid.uuid4(),
        )
        for person, number, at in [
            (ada, "+79990000002", NOW), (bob, "+79990000002", NOW), (bob, "+79990000002", NOW),
            (carol, "+79990000003", NOW), (ada, "+79990000002", NOW - timedelta(hours=2)),
            (ada, "+79990000002", NOW),
        ]
    ]  # fmt: skip
    for text in texts[:-1]:  # the last one is still queued (for the morning, say): not sent, not counted
        text.status, text.sent_at = Status.SENT, text.created_at
    async with uow() as work:
        await work.notifications.add_many(texts)
        await work.commit()
    async with uow() as work:
        sent = await work.notifications.sms_sent_since([ada, bob], ["+79990000002"], NOW - timedelta(hours=1))
    assert dict(sent.by_recipient) == {ada: 1, bob: 2} and dict(sent.by_number) == {"+79990000002": 3}


async def test_the_sender_is_stored_and_named_as_the_actor_of_the_delivery_event(uow) -> None:
    librarian = "users/6a1f1d2e-0000-4000-8000-00000000000a"
    await _queue(uow, 1, sent_by=librarian)
    (claimed,) = await _claim(uow, "w1")
    assert claimed.sent_by == librarian and claimed.retried_by == ""
    await _record(uow, "w1", [delivering.Attempt(claimed, Sent("<1@example.org>"))])
    assert (await _stored(uow, claimed)).sent_by == librarian
    async with uow() as work:
        (headers,) = (await work.session.execute(sa.select(OUTBOX.c.headers))).scalars().all()
    assert headers[ACTOR_HEADER] == librarian


async def test_a_template_version_keeps_its_editor(uow) -> None:
    admin = "users/6a1f1d2e-0000-4000-8000-00000000000c"
    async with uow() as work:
        await work.templates.add_missing(BUILTIN.values())
        await work.commit()
    async with uow() as work:
        current = await work.templates.get("message_email_en")
        await work.templates.save(current.edited({"body_template": "{{ body }}"}, now=NOW, by=admin))
        await work.commit()
    async with uow() as work:
        stored = await work.templates.get("message_email_en")
        seeded = await work.templates.get("message_sms_en")
    assert (stored.version, stored.updated_by, seeded.updated_by) == (2, admin, "")


async def test_the_end_of_a_loan_drops_its_waiting_reminders_and_nothing_else(uow) -> None:
    content = Content("", "Due soon", "", "due_soon_sms_en", 1, "en")
    ada = uuid.uuid4()
    texts = [
        Notification.queue(
            recipient_id=ada, channel=Channel.SMS, address="+79990000002", kind=Kind.DUE_SOON, content=content,
            params={}, now=NOW, not_before=NOW + timedelta(hours=8), policy=RetryPolicy(), source_event_id=uuid.uuid4(),
            event_at=at, about=loan, stale_at=NOW + timedelta(days=2),
        )
        for loan, at in [("loans/l1", NOW), ("loans/l1", NOW + timedelta(hours=1)), ("loans/l2", NOW)]
    ]  # fmt: skip
    async with uow() as work:
        await work.notifications.add_many(texts)
        await work.commit()
    returned = Intake(uuid.uuid4(), ends=(Ending("loans/l1", NOW + timedelta(minutes=5), "the loan was returned"),))
    async with uow() as work:
        await tell([returned], uow=work, now=NOW, renderer=JinjaRenderer(inspection=inspected_in_process), rules=RULES)
        await work.commit()
    ended, later, other = [await _stored(uow, n) for n in texts]
    assert (ended.status, ended.suppress_reason) == (Status.SUPPRESSED, "the loan was returned")
    assert later.status == other.status == Status.QUEUED  # caused after the return; another loan
    assert (other.about, other.stale_at) == ("loans/l2", NOW + timedelta(days=2))
    async with uow() as work:
        assert {n.id for n in await work.notifications.queued_of(ada, Channel.SMS)} == {later.id, other.id}
