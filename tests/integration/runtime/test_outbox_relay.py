"""The outbox relay against real Postgres and a real JetStream."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import nats as nats_py
import pytest
import sqlalchemy as sa

from athenaeum.catalog.v1 import events_pb2
from services.catalog.api import events
from services.catalog.app import books
from services.catalog.data.unit_of_work import SqlCatalogUnitOfWork
from services.catalog.domain.books import BookDetails
from services.support.runtime.clock import FixedClock
from services.support.runtime.engine import session_factory
from services.support.runtime.messaging import EVENT_TYPE_HEADER, NatsLink, stream_name
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.outbox_relay import OutboxRelay

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


async def _create_book(engine, title: str) -> uuid.UUID:
    uow = SqlCatalogUnitOfWork(session_factory(engine), encode=events.encode)
    await books.create_book(books.CreateBook(BookDetails(title=title)), uow=uow, clock=CLOCK)
    async with engine.connect() as connection:
        latest = sa.select(OUTBOX.c.event_id).order_by(OUTBOX.c.seq.desc()).limit(1)
        return (await connection.execute(latest)).scalar_one()


async def _messages_with_id(nats_url: str, event_id: uuid.UUID) -> list[nats_py.aio.msg.Msg]:
    client = await nats_py.connect(nats_url)
    try:
        js = client.jetstream()
        subscription = await js.subscribe(
            "athenaeum.catalog.book_created.v1", stream=stream_name("catalog"), ordered_consumer=True
        )
        found = []
        while True:
            try:
                message = await subscription.next_msg(timeout=0.5)
            except nats_py.errors.TimeoutError:
                # Done once the server has nothing more for it, not after half a second of quiet: on a busy
                # machine the first delivery alone may take longer.
                if not (await subscription.consumer_info()).num_pending and not subscription.pending_msgs:
                    return found
                continue
            if message.headers and message.headers.get("Nats-Msg-Id") == str(event_id):
                found.append(message)
    finally:
        await client.close()


async def test_a_committed_event_reaches_jetstream_once_with_its_id(engine, link, nats) -> None:
    event_id = await _create_book(engine, "Fathers and Sons")
    relay = OutboxRelay(engine, link)
    assert await relay.relay_once() == 1
    assert await relay.backlog() == 1  # published, its mark waiting for the next take
    await relay.mark_published()
    assert await relay.backlog() == 0

    (message,) = await _messages_with_id(nats, event_id)
    payload = events_pb2.BookCreated.FromString(message.data)
    assert payload.event_id == str(event_id)
    assert payload.book.title == "Fathers and Sons"
    assert message.headers[EVENT_TYPE_HEADER] == "athenaeum.catalog.v1.BookCreated"


async def test_a_batch_is_published_and_marked_whole_and_the_next_batch_takes_the_rest(engine, link, nats) -> None:
    ids = [await _create_book(engine, f"Notes {n}") for n in range(5)]
    relay = OutboxRelay(engine, link, batch_size=3)
    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 2
    assert await relay.backlog() == 2  # the first batch marked by the second's take, the second's marks waiting
    assert await relay.relay_once() == 0
    assert await relay.backlog() == 0
    async with engine.connect() as connection:
        marked = await connection.execute(sa.select(OUTBOX.c.event_id).where(OUTBOX.c.published_at.is_not(None)))
        assert set(marked.scalars()) == set(ids)
    for event_id in ids:
        assert len(await _messages_with_id(nats, event_id)) == 1


async def test_a_resend_after_a_crash_is_dropped_by_jetstream_dedup(engine, link, nats) -> None:
    event_id = await _create_book(engine, "Oblomov")
    await OutboxRelay(engine, link).relay_once()
    # The relay crashed after publishing but before marking the row: another publishes it again.
    async with engine.begin() as connection:
        await connection.execute(sa.update(OUTBOX).where(OUTBOX.c.event_id == event_id).values(relay_lease_until=None))
    assert await OutboxRelay(engine, link).relay_once() == 1
    assert len(await _messages_with_id(nats, event_id)) == 1


async def test_events_wait_in_the_outbox_while_nats_is_unreachable(engine, free_port_source) -> None:
    unreachable = NatsLink(f"nats://127.0.0.1:{next(free_port_source)}", name="nowhere")
    await _create_book(engine, "The Idiot")
    relay = OutboxRelay(engine, unreachable)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert await relay.backlog() == 1  # nothing acknowledged was lost


async def test_waiting_for_publication_ends_once_the_running_relay_has_published(engine, link, nats) -> None:
    relay = OutboxRelay(engine, link, poll_seconds=60)  # only a wake-up can make it publish in time
    running = asyncio.create_task(relay.run())
    try:
        event_id = await _create_book(engine, "Dead Souls")
        assert await relay.wait_published(within=10)
        assert await relay.backlog() == 0
        assert len(await _messages_with_id(nats, event_id)) == 1
    finally:
        running.cancel()


async def test_waiting_for_publication_gives_up_while_nats_is_unreachable(engine, free_port_source) -> None:
    unreachable = NatsLink(f"nats://127.0.0.1:{next(free_port_source)}", name="nowhere")
    relay = OutboxRelay(engine, unreachable)
    assert await relay.wait_published(within=0.1)  # nothing committed: nothing to wait for
    await _create_book(engine, "Poor Folk")
    assert not await relay.wait_published(within=0.3)
    assert await relay.backlog() == 1


async def _leases(engine) -> list[object]:
    async with engine.connect() as connection:
        query = sa.select(OUTBOX.c.relay_lease_until).where(OUTBOX.c.published_at.is_(None)).order_by(OUTBOX.c.seq)
        return list((await connection.execute(query)).scalars())


async def test_relays_at_once_publish_each_event_once(engine, link, nats, monkeypatch) -> None:
    """A batch is its relay's while it publishes it: the others take the rest, none publishes it again."""
    ids = [await _create_book(engine, f"Diary {n}") for n in range(12)]
    published: list[str] = []
    publish = OutboxRelay._publish

    async def counted(js, row) -> None:  # type: ignore[no-untyped-def]
        published.append(str(row["event_id"]))
        await asyncio.sleep(0.05)  # long enough for the other relays to look at the same rows meanwhile
        await publish(js, row)

    monkeypatch.setattr(OutboxRelay, "_publish", staticmethod(counted))
    relays = [OutboxRelay(engine, link, batch_size=4) for _ in range(3)]
    while await asyncio.gather(*(relay.relay_once() for relay in relays)) != [0, 0, 0]:
        pass
    assert sorted(published) == sorted(map(str, ids)) and await relays[0].backlog() == 0  # every take marked


async def test_a_batch_whose_relay_died_is_published_once_its_lease_ends(engine, link, nats) -> None:
    event_id = await _create_book(engine, "A Hero of Our Time")
    async with engine.begin() as connection:  # leased by a relay that then died, before publishing
        # 2 s: a loaded machine may take a fair part of a second to the next look (0.4 s ran out first at times)
        leased = sa.update(OUTBOX).values(relay_lease_until=sa.func.now() + sa.text("interval '2 seconds'"))
        await connection.execute(leased)
    relay = OutboxRelay(engine, link)
    assert await relay.relay_once() == 0  # still the dead relay's
    await asyncio.sleep(2.1)
    assert await relay.relay_once() == 1
    await relay.mark_published()
    assert await relay.backlog() == 0
    assert len(await _messages_with_id(nats, event_id)) == 1


async def test_a_failed_publish_gives_its_batch_back_at_once(engine, link, nats, monkeypatch) -> None:
    await _create_book(engine, "Crime and Punishment")

    async def refused(js, row) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionError("JetStream did not answer")

    with monkeypatch.context() as patched:
        patched.setattr(OutboxRelay, "_publish", staticmethod(refused))
        with pytest.raises(ConnectionError):
            await OutboxRelay(engine, link).relay_once()
    assert await _leases(engine) == [None]  # nothing acknowledged was lost, and nobody need wait for it
    assert await OutboxRelay(engine, link).relay_once() == 1


async def test_a_running_relay_marks_what_it_published_when_no_take_comes(engine, link, nats) -> None:
    relay = OutboxRelay(engine, link, poll_seconds=60, mark_linger=0.05)
    running = asyncio.create_task(relay.run())
    try:
        await _create_book(engine, "The Overcoat")
        relay.wake()
        deadline = time.monotonic() + 15  # a publish and a mark: two seconds were short on a busy machine
        while await relay.backlog() != 0:
            assert time.monotonic() < deadline, "the relay never marked what it published"
            await asyncio.sleep(0.02)
    finally:
        running.cancel()


async def test_an_event_too_large_for_nats_is_set_aside_and_the_events_after_it_still_leave(engine, link, nats) -> None:
    """One such row was given back and taken first again every 5 s, and no event after it ever left."""
    first = await _create_book(engine, "Anna Karenina")
    async with engine.begin() as connection:
        oversized = sa.update(OUTBOX).where(OUTBOX.c.event_id == first).values(payload=b"x" * (2 * 1024 * 1024))
        await connection.execute(oversized)
    after = await _create_book(engine, "Dead Souls")
    relay = OutboxRelay(engine, link)
    assert await relay.relay_once() == 2
    await relay.mark_published()
    assert await relay.backlog() == 0
    assert len(await _messages_with_id(nats, after)) == 1
    assert await _messages_with_id(nats, first) == []
