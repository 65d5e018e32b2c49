"""Use cases with the in-memory unit of work: record (all or none), store (once), list, aggregate, upkeep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fakes import LIBRARIAN, READER, Draft, FakeFeed, FakeJournal, FakeUnitOfWork, Stamp

from services.events.app.querying import (
    MAX_ANSWER_CHARS,
    ListEvents,
    aggregate_events,
    get_event,
    list_events,
    watch_events,
)
from services.events.app.recording import RecordEvents, UsedRequestIds, record_events, store_events
from services.events.app.upkeep import keep_partitions
from services.events.domain.aggregation import build_aggregation
from services.events.domain.model import Category, EventRecord
from services.events.domain.partitions import Month
from services.events.domain.query import EventQuery, build_query
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import DependencyUnavailable, InvalidArgument, NotFound, PermissionDenied

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def seconds(moment: datetime) -> Stamp:
    return Stamp(int(moment.timestamp()))


async def record(
    journal: FakeJournal, events: list[Draft], used: UsedRequestIds | None = None, **kwargs: object
) -> object:
    cmd = RecordEvents(events=events, payload=repr(events).encode(), recorder=kwargs.pop("recorder", READER), **kwargs)  # type: ignore[arg-type]
    return await record_events(cmd, journal=journal, clock=FixedClock(NOW), used=used)


async def test_a_valid_batch_is_journaled_with_the_recorder_and_the_time_it_was_accepted() -> None:
    journal = FakeJournal()
    batch = await record(journal, [Draft(), Draft()], trace_id="f" * 32)
    assert journal.batches == [batch]
    assert (batch.accepted_by, batch.accept_time, batch.trace_id, len(batch.events)) == (READER.name, NOW, "f" * 32, 2)  # type: ignore[attr-defined]


async def test_a_bad_or_forbidden_batch_journals_nothing() -> None:
    journal = FakeJournal()
    with pytest.raises(InvalidArgument):
        await record(journal, [Draft(), Draft(type="")])
    with pytest.raises(PermissionDenied):
        await record(journal, [Draft(category=Category.AUDIT)])
    with pytest.raises(InvalidArgument):
        await record(journal, [Draft()], request_id="again")
    assert journal.batches == []


async def test_a_librarian_s_audit_event_is_of_now_and_of_the_record_call_s_trace() -> None:
    journal = FakeJournal()
    for forged in (
        Draft(occur_time=seconds(NOW - timedelta(hours=1))),
        Draft(occur_time=seconds(NOW), trace_id="a" * 32),
    ):
        forged.category = Category.AUDIT
        with pytest.raises(PermissionDenied):
            await record(journal, [forged], recorder=LIBRARIAN, trace_id="f" * 32)
    assert journal.batches == []
    own = Draft(category=Category.AUDIT, occur_time=seconds(NOW - timedelta(minutes=1)))
    batch = await record(journal, [own], recorder=LIBRARIAN, trace_id="f" * 32)
    assert batch.records()[0].trace_id == "f" * 32  # type: ignore[attr-defined]


async def test_a_retried_batch_has_the_same_key_and_a_journal_away_is_unavailable() -> None:
    journal = FakeJournal()
    first = await record(journal, [Draft()], request_id="6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11")
    again = await record(journal, [Draft()], request_id="6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11")
    assert first.key == again.key and len(journal.batches) == 1  # type: ignore[attr-defined]
    journal.down = True
    with pytest.raises(DependencyUnavailable):
        await record(journal, [Draft()], recorder=LIBRARIAN)


async def test_another_batch_under_a_used_request_id_is_refused_and_not_journaled() -> None:
    journal, used, request_id = FakeJournal(), UsedRequestIds(), "6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"
    first = await record(journal, [Draft(attributes={"n": "1"})], used, request_id=request_id)
    again = await record(journal, [Draft(attributes={"n": "1"})], used, request_id=request_id.upper())
    assert first.key == again.key  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgument) as refused:
        await record(journal, [Draft(attributes={"n": "2"})], used, request_id=request_id)
    assert refused.value.violations[0].field == "request_id"
    other_recorder = await record(
        journal, [Draft(attributes={"n": "2"})], used, request_id=request_id, recorder=LIBRARIAN
    )
    assert [batch.key for batch in journal.batches] == [first.key, other_recorder.key]  # type: ignore[attr-defined]


async def test_a_batch_the_journal_did_not_take_leaves_its_request_id_free() -> None:
    journal, used, request_id = FakeJournal(), UsedRequestIds(), "6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"
    journal.down = True
    with pytest.raises(DependencyUnavailable):
        await record(journal, [Draft(attributes={"n": "1"})], used, request_id=request_id)
    journal.down = False
    await record(journal, [Draft(attributes={"n": "2"})], used, request_id=request_id)
    assert len(journal.batches) == 1


def test_the_used_request_ids_are_bounded_and_the_oldest_goes_first() -> None:
    used = UsedRequestIds(capacity=2)
    assert [used.claim(scope, f"{scope}/k") for scope in ("a", "b", "c")] == [True, True, True]
    assert used.claim("a", "a/other")  # forgotten: no longer checked (its batch keeps a key of its own)
    with pytest.raises(InvalidArgument):
        used.claim("c", "c/other")


async def test_a_batch_stored_twice_is_stored_once() -> None:
    journal, uow = FakeJournal(), FakeUnitOfWork()
    batch = await record(journal, [Draft(), Draft(attributes={"q": "x"})])
    await store_events(batch.records(), uow=uow)  # type: ignore[attr-defined]
    await store_events(batch.records(), uow=uow)  # type: ignore[attr-defined]
    assert len(uow.committed.stored) == 2 and uow.commits == 2


def audit(minutes: int, **fields: object) -> EventRecord:
    moment = NOW - timedelta(minutes=minutes)
    defaults: dict[str, object] = {
        "type": "athenaeum.loans.loan_issued",
        "category": Category.AUDIT,
        "actor": "users/ada",
    }
    return EventRecord(id=uuid.uuid4(), occur_time=moment, record_time=moment, **{**defaults, **fields})  # type: ignore[arg-type]


async def test_pages_are_newest_first_and_a_token_resumes_after_its_last_event() -> None:
    uow = FakeUnitOfWork()
    records = [audit(minutes) for minutes in range(7)] + [audit(3, actor="users/bob")]
    await store_events(records, uow=uow)
    seen: list[EventRecord] = []
    token = ""
    while True:
        page = await list_events(ListEvents(build_query(actor="users/ada"), 3, token), uow=uow)
        seen += page.items
        token = page.next_page_token
        if not token:
            break
    assert [r.occur_time for r in seen] == sorted((r.occur_time for r in records[:7]), reverse=True)
    with pytest.raises(InvalidArgument):
        await list_events(ListEvents(build_query(actor="users/bob"), 3, page.next_page_token or "garbage"), uow=uow)


async def test_a_page_of_large_events_stops_early_and_its_token_goes_on_from_there() -> None:
    """1,000 events of 16 KiB made a page larger than the edge and gRPC let through (a REST 500)."""
    uow = FakeUnitOfWork()
    big = {f"k{i}": "ж" * 1000 for i in range(16)}
    records = [audit(minutes, attributes=big) for minutes in range(100)]
    await store_events(records, uow=uow)
    sizes, token, seen = [], "", 0
    while True:
        page = await list_events(ListEvents(EventQuery(), 1000, token), uow=uow)
        sizes.append(len(page.items))
        seen += len(page.items)
        if not (token := page.next_page_token):
            break
    assert seen == 100 and len(sizes) > 1 and max(sizes) * 16_000 <= MAX_ANSWER_CHARS


async def test_counts_whose_keys_are_too_long_to_answer_are_refused() -> None:
    uow = FakeUnitOfWork()
    await store_events([audit(1, attributes={"q": f"{i:04}" + "x" * 1000}) for i in range(600)], uow=uow)
    aggregation = build_aggregation(
        start=NOW - timedelta(hours=1), end=NOW, interval=0, group_by="attributes.q", query=EventQuery(), top=1000
    )
    with pytest.raises(InvalidArgument, match="too long"):
        await aggregate_events(aggregation, uow=uow)


async def test_a_page_token_of_another_query_is_refused() -> None:
    uow = FakeUnitOfWork()
    await store_events([audit(m) for m in range(3)], uow=uow)
    page = await list_events(ListEvents(EventQuery(), 1), uow=uow)
    with pytest.raises(InvalidArgument):
        await list_events(ListEvents(build_query(actor="users/ada"), 1, page.next_page_token), uow=uow)
    with pytest.raises(InvalidArgument):
        await list_events(ListEvents(EventQuery(), -1), uow=uow)


async def test_one_event_is_found_by_name() -> None:
    uow = FakeUnitOfWork()
    stored = audit(1)
    await store_events([stored], uow=uow)
    assert await get_event(stored.name, uow=uow) == stored
    with pytest.raises(NotFound):
        await get_event(f"events/{uuid.uuid4()}", uow=uow)
    with pytest.raises(InvalidArgument):
        await get_event("loans/1", uow=uow)


async def test_the_most_borrowed_books_of_the_range_are_counted_per_day() -> None:
    uow = FakeUnitOfWork()
    books = ["books/a"] * 3 + ["books/b"] * 2 + ["books/c"]
    await store_events([audit(i, attributes={"loan.book": book}) for i, book in enumerate(books)], uow=uow)
    aggregation = build_aggregation(
        start=NOW - timedelta(days=7),
        end=NOW + timedelta(minutes=1),
        interval=3,
        group_by="attributes.loan.book",
        query=build_query(type="athenaeum.loans.loan_issued"),
        top=2,
    )
    counts = await aggregate_events(aggregation, uow=uow)
    assert [(c.start_time, c.key, c.count) for c in counts] == [
        (datetime(2026, 12, 1, tzinfo=UTC), "books/a", 3),
        (datetime(2026, 12, 1, tzinfo=UTC), "books/b", 2),
    ]


async def test_upkeep_makes_partitions_ahead_and_drops_expired_activity_months() -> None:
    uow = FakeUnitOfWork()
    await uow.partitions.create([Month(2026, 6), Month(2026, 7)])
    upkeep = await keep_partitions(uow=uow, clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=120))
    assert sorted(upkeep.created) == [
        "events_activity_2026_12",
        "events_activity_2027_01",
        "events_audit_2026_12",
        "events_audit_2027_01",
    ]
    assert upkeep.dropped == ["events_activity_2026_06", "events_activity_2026_07"]
    assert Month(2026, 6) in uow.partitions.audit  # the audit trail is kept


async def test_upkeep_deletes_expired_activity_that_no_month_holds_and_keeps_the_rest() -> None:
    uow = FakeUnitOfWork()
    before_the_first_month = datetime(2025, 6, 30, tzinfo=UTC)
    kept = [
        EventRecord(uuid.uuid4(), "web.old", Category.AUDIT, before_the_first_month, NOW),
        EventRecord(uuid.uuid4(), "web.recent", Category.ACTIVITY, NOW - timedelta(days=30), NOW),
    ]
    expired = EventRecord(uuid.uuid4(), "web.old", Category.ACTIVITY, before_the_first_month, NOW)
    await store_events([*kept, expired], uow=uow)
    upkeep = await keep_partitions(uow=uow, clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90))
    assert upkeep.deleted == 1
    assert sorted(uow.committed.stored.values(), key=lambda r: r.type) == sorted(kept, key=lambda r: r.type)


async def test_a_recorded_activity_event_older_than_the_retention_window_is_refused() -> None:
    journal = FakeJournal()
    old = Draft(occur_time=seconds(NOW - timedelta(days=91)))
    with pytest.raises(InvalidArgument):
        await record(journal, [Draft(), old], activity_retention=timedelta(days=90))
    assert journal.batches == []


async def test_a_watch_passes_its_query_to_the_feed() -> None:
    feed = FakeFeed([audit(0, actor="users/bob"), None, audit(0)])
    query = build_query(actor="users/ada")
    async with watch_events(query, feed=feed) as items:
        seen = [item async for item in items]
    assert feed.queries == [query]
    assert [item.actor if item else None for item in seen] == [None, "users/ada"]


async def test_upkeep_deletes_activity_past_the_window_from_the_oldest_month_kept() -> None:
    """A search of 1 December was kept until the whole of December was past 90 days: ~120 days, not 90."""
    uow = FakeUnitOfWork()
    cutoff = NOW - timedelta(days=90)  # 2 September 2026, 12:00
    await uow.partitions.create([Month.of(cutoff)])
    kept = [
        EventRecord(uuid.uuid4(), "web.search", Category.ACTIVITY, cutoff + timedelta(hours=1), NOW),
        EventRecord(uuid.uuid4(), "web.audited", Category.AUDIT, cutoff - timedelta(days=1), NOW),
    ]
    expired = EventRecord(uuid.uuid4(), "web.search", Category.ACTIVITY, cutoff - timedelta(hours=1), NOW)
    await store_events([*kept, expired], uow=uow)
    upkeep = await keep_partitions(uow=uow, clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90))
    assert upkeep.deleted == 1 and not upkeep.dropped
    assert sorted(uow.committed.stored.values(), key=lambda r: r.type) == sorted(kept, key=lambda r: r.type)
