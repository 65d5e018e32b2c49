"""The dispatchers' claims run on the driver's connection, in the unit of work's own transaction, without making a
SQLAlchemy session (through the session a claim was ~1.4 % of the loaded service's busy time, bench/README.md).
What a claim means stays: due notices in the order of their next attempt, leased to one worker, skipping those
another transaction holds (SKIP LOCKED), a reader's batched notices claimed together, the SMS limits counted,
and what is suppressed or held given back."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifications.api import events
from services.notifications.app import delivering
from services.notifications.app.notifying import Rules
from services.notifications.data.tables import notifications as table
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import RetryPolicy, SmsPolicy
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification, Status
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.support.runtime.clock import FixedClock
from services.support.runtime.driver import DriverTransaction
from services.support.runtime.engine import session_factory
from services.support.runtime.migrations import upgrade_to_head

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
RULES = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None))
TRACEPARENT = f"00-{'c' * 32}-{'d' * 16}-00"

UnitOfWork = Callable[[], SqlNotificationsUnitOfWork]


@pytest.fixture
async def engine(postgres) -> AsyncIterator[sa.ext.asyncio.AsyncEngine]:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications_claims")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    engine = create_async_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow(engine) -> UnitOfWork:
    cache = TemplateCache(BUILTIN)
    return lambda: SqlNotificationsUnitOfWork(  # as the service's: on the driver's own transaction
        session_factory(engine), encode=events.encode, templates=cache, on_driver=True
    )


@contextlib.contextmanager
def no_session() -> Iterator[None]:
    """Within it, a unit of work that makes a SQLAlchemy session fails."""

    async def refused(self: DriverTransaction) -> None:
        raise AssertionError("the claim made a SQLAlchemy session")

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(DriverTransaction, "session", refused)
        yield


def _notice(
    recipient_id: uuid.UUID, *, at: datetime = NOW, channel: Channel = Channel.EMAIL, kind: Kind = Kind.HOLD_READY
) -> Notification:
    address = "+79990000002" if channel == Channel.SMS else "reader@example.org"
    return Notification.queue(
        recipient_id=recipient_id, channel=channel, address=address, kind=kind,
        content=Content("Ready", "Your book", "", f"{kind.value}_{channel.value}_en", 1, "en"),
        params={"title": "Dune"}, now=NOW - timedelta(hours=1), not_before=at, policy=RetryPolicy(),
        source_event_id=uuid.uuid4(), event_at=NOW - timedelta(hours=1), trace={"traceparent": TRACEPARENT},
    )  # fmt: skip


async def _store(uow: UnitOfWork, notices: list[Notification], *recipients: Recipient) -> None:
    async with uow() as work:
        await work.notifications.add_many(notices)
        for recipient in recipients:
            await work.recipients.save(recipient)
        await work.commit()


async def _claim(
    uow: UnitOfWork, worker: str, *, limit: int = 10, at: datetime = NOW, rules: Rules = RULES,
    channel: Channel = Channel.EMAIL,
) -> list[Notification]:  # fmt: skip
    command = delivering.ClaimDue(channel, limit, worker, LEASE)
    return await delivering.claim_due(command, uow=uow(), clock=FixedClock(at), rules=rules)


async def _claims(engine) -> dict[uuid.UUID, tuple[str | None, datetime | None, str, datetime]]:
    """Each notice's claim, status and next attempt, as stored."""
    columns = (table.c.claimed_by, table.c.claimed_until, table.c.status, table.c.next_attempt_at)
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(table.c.id, *columns))
        return {row.id: tuple(row)[1:] for row in rows}


async def test_a_claim_reads_the_due_notices_as_stored_in_the_order_of_their_attempts_and_leases_them(
    uow: UnitOfWork, engine
) -> None:
    ada = uuid.uuid4()
    later, sooner, not_yet = (_notice(ada, at=NOW - timedelta(minutes=m)) for m in (1, 5, -5))
    await _store(uow, [later, sooner, not_yet])

    with no_session():
        claimed = await _claim(uow, "w1")

    assert [n.id for n in claimed] == [sooner.id, later.id]  # backoff order; the one not due yet stays
    first = claimed[0]
    assert (first.status, first.content, first.params, first.trace) == (
        Status.QUEUED, sooner.content, {"title": "Dune"}, {"traceparent": TRACEPARENT},
    )  # fmt: skip
    assert (first.next_attempt_at, first.created_at, first.attempts, first.version) == (
        sooner.next_attempt_at, sooner.created_at, 0, sooner.version,
    )  # fmt: skip
    assert isinstance(first.recipient_id, uuid.UUID) and first.recipient_id == ada
    stored = await _claims(engine)
    assert stored[sooner.id][:2] == stored[later.id][:2] == ("w1", NOW + LEASE)
    assert stored[not_yet.id][:2] == (None, None)
    with no_session():
        assert await _claim(uow, "w2", at=NOW + LEASE - timedelta(seconds=1)) == []  # leased to w1
        retaken = await _claim(uow, "w2", at=NOW + LEASE + timedelta(seconds=1))  # w1's lease lapsed
    assert {n.id for n in retaken} == {sooner.id, later.id}


async def test_a_claim_skips_the_notices_another_transaction_holds(uow: UnitOfWork) -> None:
    notices = [_notice(uuid.uuid4(), at=NOW - timedelta(minutes=m)) for m in (4, 3, 2, 1)]
    await _store(uow, notices)
    with no_session():
        async with uow() as holding:  # w1 claimed the first two and has not committed yet
            first = await holding.notifications.claim_due(
                Channel.EMAIL, now=NOW, limit=2, worker="w1", until=NOW + LEASE
            )
            other = await asyncio.wait_for(_claim(uow, "w2"), timeout=5)  # not blocked by w1's locks
            await holding.commit()
    assert [n.id for n in first] == [notices[0].id, notices[1].id]
    assert [n.id for n in other] == [notices[2].id, notices[3].id]


async def test_a_readers_batched_notices_are_claimed_together(uow: UnitOfWork) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    due = _notice(ada, kind=Kind.DUE_SOON, at=NOW - timedelta(minutes=1))
    waiting = _notice(ada, kind=Kind.DUE_SOON, at=NOW + timedelta(seconds=30))  # within the window: goes along
    beyond = _notice(ada, kind=Kind.DUE_SOON, at=NOW + timedelta(minutes=5))  # after it: waits for its own turn
    someone_else = _notice(bob, kind=Kind.DUE_SOON, at=NOW + timedelta(seconds=30))
    await _store(uow, [due, waiting, beyond, someone_else])

    with no_session():
        claimed = await _claim(uow, "w1", rules=Rules(sms=RULES.sms, batch_window=timedelta(minutes=1)))

    assert [n.id for n in claimed] == [due.id, waiting.id]


async def test_suppressed_and_held_back_notices_are_given_back(uow: UnitOfWork, engine) -> None:
    """A closed account's notice is suppressed and a routine SMS over the hourly limit held back: both saved,
    their claims given back; the SMS limit is counted from what was sent."""
    closed, ada = uuid.uuid4(), uuid.uuid4()
    gone = _notice(closed, channel=Channel.SMS)
    over = _notice(ada, channel=Channel.SMS, kind=Kind.HOLD_EXPIRED)
    sent = [_notice(ada, channel=Channel.SMS, kind=Kind.HOLD_EXPIRED) for _ in range(2)]
    for text in sent:
        text.status, text.sent_at = Status.SENT, NOW - timedelta(minutes=10)
    people = (
        Recipient(closed, phone="+79990000002", status=AccountStatus.DEACTIVATED),
        Recipient(ada, phone="+79990000002", status=AccountStatus.ACTIVE, sms_opt_in=True),
    )
    await _store(uow, [gone, over, *sent], *people)
    rules = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None, max_per_hour=2))

    with no_session():
        assert await _claim(uow, "w1", rules=rules, channel=Channel.SMS) == []

    stored = await _claims(engine)
    assert stored[gone.id][:3] == (None, None, Status.SUPPRESSED.value)
    assert stored[over.id][:3] == (None, None, Status.QUEUED.value)
    assert stored[over.id][3] > NOW  # waits for the next slot


async def test_a_workers_claims_are_kept_and_given_back_at_its_restart_on_the_driver(uow: UnitOfWork, engine) -> None:
    notices = [_notice(uuid.uuid4()) for _ in range(2)]
    await _store(uow, notices)
    (first, second) = await _claim(uow, "w1")
    later = NOW + LEASE - timedelta(seconds=1)
    with no_session():
        await delivering.extend_claims([first.id], worker="w1", lease=LEASE, uow=uow(), clock=FixedClock(later))
        await delivering.extend_claims([second.id], worker="w2", lease=LEASE, uow=uow(), clock=FixedClock(later))
    stored = await _claims(engine)
    assert stored[first.id][:2] == ("w1", later + LEASE) and stored[second.id][:2] == ("w1", NOW + LEASE)
    with no_session():
        assert await delivering.release_claims("w2", uow=uow()) == 0
        assert await delivering.release_claims("w1", uow=uow()) == 2
    assert {claim[:2] for claim in (await _claims(engine)).values()} == {(None, None)}
