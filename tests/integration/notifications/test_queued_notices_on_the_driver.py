"""A returned loan's (or collected hold's) queued notices are looked up on the driver's connection, in the unit
of work's own transaction, without making a SQLAlchemy session: every event that ends a loan asks, and the
session's machinery was 3.6 % of the service's busy time. What the look-up finds is what was stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifications.api import events
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import RetryPolicy
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification, Status
from services.support.runtime.driver import DriverTransaction
from services.support.runtime.engine import session_factory
from services.support.runtime.migrations import upgrade_to_head

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TRACEPARENT = f"00-{'a' * 32}-{'b' * 16}-00"

UnitOfWork = Callable[[], SqlNotificationsUnitOfWork]


@pytest.fixture
async def uow(postgres) -> AsyncIterator[UnitOfWork]:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications_queued")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    engine = create_async_engine(url)
    cache = TemplateCache(BUILTIN)
    yield lambda: SqlNotificationsUnitOfWork(  # as the service's: on the driver's own transaction
        session_factory(engine), encode=events.encode, templates=cache, on_driver=True
    )
    await engine.dispose()


def _due_soon(about: str, recipient_id: uuid.UUID) -> Notification:
    return Notification.queue(
        recipient_id=recipient_id, channel=Channel.SMS, address="+79990000002", kind=Kind.DUE_SOON,
        content=Content("", "Due soon", "", "due_soon_sms_en", 1, "en"), params={"title": "Dune", "days": "2"},
        now=NOW, not_before=NOW + timedelta(hours=8), policy=RetryPolicy(), source_event_id=uuid.uuid4(),
        event_at=NOW, about=about, stale_at=NOW + timedelta(days=2), trace={"traceparent": TRACEPARENT},
    )  # fmt: skip


async def test_queued_notices_about_an_ending_are_read_on_the_driver_as_stored(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = uuid.uuid4()
    notices = [_due_soon(about, ada) for about in ("loans/l1", "loans/l2", "loans/l3")]
    async with uow() as work:
        await work.notifications.add_many(notices)
        await work.commit()

    async def no_session(self: DriverTransaction) -> None:
        raise AssertionError("the look-up made a SQLAlchemy session")

    with monkeypatch.context() as patched:
        patched.setattr(DriverTransaction, "session", no_session)
        async with uow() as work:
            found = await work.notifications.queued_about({"loans/l1", "loans/l3"})
            await work.commit()

    assert sorted(n.about for n in found) == ["loans/l1", "loans/l3"]
    first = next(n for n in found if n.about == "loans/l1")
    stored = notices[0]
    assert (first.id, first.status, first.content) == (stored.id, Status.QUEUED, stored.content)
    assert (first.params, first.trace, first.version) == (stored.params, stored.trace, stored.version)
    assert (first.next_attempt_at, first.stale_at) == (NOW + timedelta(hours=8), NOW + timedelta(days=2))
    assert isinstance(first.recipient_id, uuid.UUID) and first.recipient_id == ada


async def test_a_dropped_notice_found_on_the_driver_is_saved_in_the_same_transaction(uow: UnitOfWork) -> None:
    notice = _due_soon("loans/l9", uuid.uuid4())
    async with uow() as work:
        await work.notifications.add_many([notice])
        await work.commit()
    async with uow() as work:
        (found,) = await work.notifications.queued_about({"loans/l9"})
        assert found.drop("the loan was returned", now=NOW + timedelta(minutes=5))
        await work.notifications.save(found)
        await work.commit()
    async with uow() as work:
        assert await work.notifications.queued_about({"loans/l9"}) == []
        stored = await work.notifications.get(notice.id)
    assert (stored.status, stored.suppress_reason) == (Status.SUPPRESSED, "the loan was returned")
