"""What the notifications database keeps, in the real Postgres: an outcome recorded again after a commit whose
answer was lost is announced once; accounts the users service tells of are kept without overwriting a newer
event's; finished notifications go after `notifications_kept_days`, in batches, the queued ones never."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.notifications.api import events
from services.notifications.app import delivering, projection
from services.notifications.app.notifying import Rules
from services.notifications.data.notifications import FINISHED_LONG_AGO
from services.notifications.data.tables import notifications as notifications_table
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import RetryPolicy, Sent, SmsPolicy
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification, Status
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.support.runtime.clock import FixedClock
from services.support.runtime.engine import session_factory
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.upkeep import delete_until_none

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
RULES = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None))

UnitOfWork = Callable[[], SqlNotificationsUnitOfWork]


class Users:
    def __init__(self, *accounts: Recipient) -> None:
        self.accounts = {account.user_id: account for account in accounts}

    async def look_up(self, user_ids):  # type: ignore[no-untyped-def]
        return {user_id: self.accounts.get(user_id) for user_id in user_ids}


@pytest.fixture
async def database(postgres) -> AsyncIterator[tuple[AsyncEngine, UnitOfWork]]:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications_keeping")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    engine = create_async_engine(url)
    cache = TemplateCache(BUILTIN)
    yield (
        engine,
        lambda: SqlNotificationsUnitOfWork(
            session_factory(engine), encode=events.encode, templates=cache, on_driver=True
        ),
    )
    await engine.dispose()


def _notification(*, created_at: datetime, status: Status = Status.QUEUED) -> Notification:
    queued = Notification.queue(
        recipient_id=uuid.uuid4(), channel=Channel.EMAIL, address="ada@example.org", kind=Kind.MESSAGE,
        content=Content("Hi", "Hello", "", "message_email_en", 1, "en"), params={}, now=created_at,
        not_before=created_at, policy=RetryPolicy(),
    )  # fmt: skip
    return replace(queued, status=status)


async def _add(uow: UnitOfWork, notifications: list[Notification]) -> None:
    async with uow() as work:
        await work.notifications.add_many(notifications)
        await work.commit()


async def test_an_outcome_recorded_again_after_a_lost_answer_is_stored_and_announced_once(database) -> None:
    engine, uow = database
    await _add(uow, [_notification(created_at=NOW)])
    command = delivering.ClaimDue(Channel.EMAIL, 10, "w1", timedelta(seconds=30))
    (claimed,) = await delivering.claim_due(command, uow=uow(), clock=FixedClock(NOW), rules=RULES)
    for _ in range(2):  # the first commit went through, its answer did not: the dispatcher records it again
        attempt = delivering.Attempt(replace(claimed, events=[]), Sent("<1@example.org>"))
        await delivering.record_attempts([attempt], worker="w1", uow=uow(), clock=FixedClock(NOW), rules=RULES)
    async with engine.connect() as connection:
        announced = (await connection.execute(sa.select(OUTBOX.c.subject))).scalars().all()
        status, attempts = (
            await connection.execute(sa.select(notifications_table.c.status, notifications_table.c.attempts))
        ).one()
    assert announced == ["athenaeum.notifications.notification_sent.v1"]
    assert (status, attempts) == (Status.SENT.value, 1)


async def test_accounts_learned_are_kept_unless_an_event_brought_a_newer_version(database) -> None:
    _, uow = database
    newer = Recipient(uuid.uuid4(), email="new@example.org", status=AccountStatus.ACTIVE, version=5, status_at=NOW)
    hollow = Recipient(uuid.uuid4(), status=AccountStatus.BLOCKED, status_at=NOW)  # only a status change was seen
    absent = Recipient(uuid.uuid4(), email="ada@example.org", status=AccountStatus.ACTIVE, version=2, status_at=NOW)
    async with uow() as work:
        await work.recipients.save(newer)
        await work.recipients.save(hollow)
        await work.commit()
    users = Users(
        replace(newer, email="old@example.org", version=4),
        replace(hollow, email="bo@example.org", version=3, status=AccountStatus.ACTIVE, status_at=NOW - timedelta(1)),
        absent,
    )  # fmt: skip
    async with uow() as work:
        learned = await projection.learn(list(users.accounts), accounts=users, uow=work)
        await work.commit()
    async with uow() as work:
        kept = await work.recipients.get_many(users.accounts)
    assert kept == learned.recipients
    assert kept[newer.user_id] == newer
    assert (kept[hollow.user_id].email, kept[hollow.user_id].status) == ("bo@example.org", AccountStatus.BLOCKED)
    assert kept[absent.user_id] == absent
    async with uow() as work:  # an answer about an account stored meanwhile (by an event) leaves it as it is
        assert not await work.recipients.add(replace(absent, email="other@example.org"))
        await work.commit()


async def test_finished_notifications_go_after_the_kept_days_and_queued_ones_stay(database) -> None:
    engine, uow = database
    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=10)
    finished = [
        _notification(created_at=old, status=status) for status in (Status.SENT, Status.FAILED, Status.SUPPRESSED)
    ]
    staying = [_notification(created_at=old), _notification(created_at=recent, status=Status.SENT)]
    await _add(uow, finished + staying)
    deleted = await delete_until_none(engine, [FINISHED_LONG_AGO], {"keep": timedelta(days=365)})
    async with engine.connect() as connection:
        left = set((await connection.execute(sa.select(notifications_table.c.id))).scalars().all())
    assert deleted == 3 and left == {n.id for n in staying}


async def test_reminder_steps_told_go_after_the_kept_days(database) -> None:
    from services.notifications.data.reminders import STEPS_TOLD_LONG_AGO
    from services.notifications.data.tables import step_keys

    engine, _ = database
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(step_keys),
            [
                {"key": "old-1", "created_at": NOW - timedelta(days=400)},
                {"key": "old-2", "created_at": NOW - timedelta(days=366)},
                {"key": "recent", "created_at": datetime.now(UTC) - timedelta(days=10)},
            ],
        )

    deleted = await delete_until_none(engine, [STEPS_TOLD_LONG_AGO], {"keep": timedelta(days=365)})

    async with engine.connect() as connection:
        left = set((await connection.execute(sa.select(step_keys.c.key))).scalars().all())
    assert deleted == 2 and left == {"recent"}
