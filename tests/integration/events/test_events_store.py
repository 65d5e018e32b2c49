"""The log in Postgres: COPY into the partitioned table, once per event, queries and upkeep."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from athenaeum.events.v1 import events_pb2
from services.events.app.anonymizing import AnonymizePatronHistory, anonymize_patron_history
from services.events.app.querying import ListEvents, aggregate_events, get_event, list_events
from services.events.app.recording import store_accepted, store_events
from services.events.app.upkeep import keep_partitions
from services.events.domain.aggregation import build_aggregation
from services.events.domain.model import AcceptedBatch, Category, EventRecord, mint_id
from services.events.domain.query import EventQuery, build_query
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import FailedPrecondition, NotFound
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)


def event(minutes: float = 0, *, category: Category = Category.ACTIVITY, **fields: object) -> EventRecord:
    moment = fields.pop("occur_time", NOW - timedelta(minutes=minutes))
    values: dict[str, object] = {"id": uuid.uuid4(), "type": "web.search", "actor": "users/ada", **fields}
    return EventRecord(category=category, occur_time=moment, record_time=NOW, **values)  # type: ignore[arg-type]


async def count(events_db, where: str = "true") -> int:
    async with events_db.engine.connect() as connection:
        return int(await connection.scalar(sa.text(f"SELECT count(*) FROM events WHERE {where}")))


async def partitions_of(events_db, parent: str) -> set[str]:
    query = (
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :p"
    )
    async with events_db.engine.connect() as connection:
        return set((await connection.execute(sa.text(query), {"p": parent})).scalars())


async def test_events_are_copied_into_their_months_partition_once_even_when_stored_again(events_db) -> None:
    await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90)
    )
    first = [event(i, attributes={"q": "Мастер", "page": str(i)}) for i in range(50)]
    await store_events(first, uow=events_db.uow())
    # A redelivered batch with a new event in it: the conflict takes the staging path, and only the new one lands.
    again = [*first[:10], event(0.5, category=Category.AUDIT, subject="loans/1", resources=("loans/1", "books/2"))]
    await store_events(again, uow=events_db.uow())
    assert await count(events_db) == 51
    assert await count(events_db, "tableoid::regclass::text LIKE 'events_activity_20%'") == 50
    stored = await get_event(first[3].name, uow=events_db.uow())
    assert stored.attributes == {"q": "Мастер", "page": "3"} and stored.occur_time == first[3].occur_time


async def test_accepted_batches_land_as_the_domain_completes_them_once_even_when_stored_again(events_db) -> None:
    await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90)
    )
    moment = timestamp(NOW)
    tricky = {"q": 'a "quoted" \\ back\\nslash\n\ttab\r', "title": "Война и мир", "emoji": "📚", "": ""}
    wire = [
        events_pb2.Event(name=f"events/{uuid.uuid4()}", type="web.search", occur_time=moment, attributes={"q": "a"})
        for _ in range(20)
    ]
    wire[3].attributes.update(tricky)
    wire[4].ClearField("name")  # minted from the batch
    wire[5].occur_time.nanos = 123_456_789
    first = AcceptedBatch("users/ada:1", "users/ada", NOW, "c" * 32, wire[:15])
    assert await store_accepted([first], uow=events_db.uow()) == []
    # A redelivery beside a new batch overlapping it: the conflict takes the staging path; the new five land.
    again = AcceptedBatch("users/ada:2", "users/ada", NOW, "", wire[10:])
    assert await store_accepted([first, again], uow=events_db.uow()) == []
    assert await count(events_db) == 20
    assert await count(events_db, "resources = '{}'") == 20
    for record in [*first.records(), *again.records()[5:]]:
        found = await get_event(record.name, uow=events_db.uow())
        assert (found.occur_time, found.actor, found.trace_id) == (record.occur_time, record.actor, record.trace_id)
        assert found.attributes == record.attributes and found.id == record.id and found.resources == ()
    assert (await get_event(first.records()[3].name, uow=events_db.uow())).attributes == {"q": "a", **tricky}


async def test_a_batch_that_cannot_be_read_is_set_aside_and_the_rest_of_the_fetch_is_stored(events_db) -> None:
    await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90)
    )

    def batch(key: str, size: int, **fields: object) -> AcceptedBatch:
        wire = [
            events_pb2.Event(name=f"events/{uuid.uuid4()}", type="web.search", occur_time=timestamp(NOW), **fields)
            for _ in range(size)
        ]
        return AcceptedBatch(key, "users/ada", NOW, "", wire)

    stored, refused, new = batch("k:1", 5), batch("k:2", 3, category=9), batch("k:3", 4)
    assert await store_accepted([stored], uow=events_db.uow()) == []
    # A redelivery first (its conflict sends the fetch's text a second time, to the staging table), the
    # batch that cannot be read in the middle, a new one last: only the new one's events are added.
    assert await store_accepted([stored, refused, new], uow=events_db.uow()) == [1]
    assert await count(events_db) == 9
    assert await count(events_db, "category = 9") == 0


async def test_a_failed_store_leaves_nothing(events_db) -> None:
    good = event(1)
    with pytest.raises(Exception):  # noqa: B017 - any database refusal will do
        await store_events([good, event(2, type="x" * 3000 + "\x00")], uow=events_db.uow())
    assert await count(events_db) == 0


async def test_a_minted_name_is_found_by_its_time_and_others_by_searching(events_db) -> None:
    minted = event(3, id=mint_id("batch", 0, NOW - timedelta(minutes=3)))
    other = event(4)
    await store_events([minted, other], uow=events_db.uow())
    assert (await get_event(minted.name, uow=events_db.uow())).id == minted.id
    assert (await get_event(other.name, uow=events_db.uow())).id == other.id
    with pytest.raises(NotFound):
        await get_event(f"events/{uuid.uuid4()}", uow=events_db.uow())


async def test_of_two_audit_records_under_one_name_the_first_stored_is_the_one_found(events_db) -> None:
    """A record stored later under a genuine record's name (from before person's AUDIT names were minted)
    does not take its place: GetEvent answers the first stored, whichever row Postgres meets first."""
    name = mint_id("mesh", 0, NOW - timedelta(minutes=3))
    genuine = event(3, category=Category.AUDIT, id=name, actor="users/lib", attributes={"fine.amount": "9.98"})
    for minutes in (2, 2.5):  # later records, one of them in the same millisecond as the name carries
        moment = NOW - timedelta(minutes=3) if minutes == 2.5 else NOW - timedelta(minutes=minutes)
        forged = event(category=Category.AUDIT, id=name, occur_time=moment + timedelta(microseconds=500),
                       attributes={"fine.amount": "0.01"})  # fmt: skip
        await store_events([replace(forged, record_time=NOW + timedelta(seconds=minutes))], uow=events_db.uow())
    await store_events([genuine], uow=events_db.uow())
    found = await get_event(f"events/{name}", uow=events_db.uow())
    assert found.attributes == {"fine.amount": "9.98"}


async def test_lists_filter_on_resources_and_attributes_and_page_without_gaps(events_db) -> None:
    loan = "loans/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"
    touching = [
        event(i, category=Category.AUDIT, type="athenaeum.loans.loan_renewed", subject=loan, resources=(loan,))
        for i in range(5)
    ]
    fine = event(
        9, category=Category.AUDIT, type="athenaeum.loans.fine_paid", subject="fines/1", resources=("fines/1", loan)
    )
    noise = [event(i, attributes={"q": "x"}) for i in range(20)]
    await store_events([*touching, fine, *noise], uow=events_db.uow())
    seen, token = [], ""
    while True:
        page = await list_events(ListEvents(build_query(filter=f'resource = "{loan}"'), 2, token), uow=events_db.uow())
        seen += page.items
        if not (token := page.next_page_token):
            break
    assert [r.id for r in seen] == [r.id for r in [*touching, fine]]
    prefix = await list_events(
        ListEvents(build_query(type="athenaeum.loans.", filter='resource = "fines/*"')), uow=events_db.uow()
    )
    assert [r.id for r in prefix.items] == [fine.id]
    attributes = await list_events(
        ListEvents(build_query(filter='attributes.q = "x" AND category = ACTIVITY')), uow=events_db.uow()
    )
    assert len(attributes.items) == 20


async def test_counts_per_hour_and_per_group_with_the_top_groups_only(events_db) -> None:
    start = NOW.replace(minute=0, second=0) - timedelta(hours=2)
    books = ["books/a"] * 3 + ["books/b"] * 2 + ["books/c"]
    records = [event(0, type="athenaeum.loans.loan_issued", attributes={"loan.book": b}) for b in books]
    await store_events([*records, event(0, type="web.view")], uow=events_db.uow())
    aggregation = build_aggregation(
        start=start,
        end=start + timedelta(hours=3),
        interval=2,
        group_by="attributes.loan.book",
        query=build_query(type="athenaeum.loans.loan_issued"),
        top=2,
    )
    counts = await aggregate_events(aggregation, uow=events_db.uow())
    assert [(c.key, c.count) for c in counts] == [("books/a", 3), ("books/b", 2)]
    assert counts[0].start_time == NOW.replace(minute=0, second=0)
    whole = build_aggregation(
        start=start, end=start + timedelta(hours=3), interval=0, group_by="", query=EventQuery(), top=0
    )
    assert [(c.start_time, c.count) for c in await aggregate_events(whole, uow=events_db.uow())] == [(start, 7)]


async def test_upkeep_drops_expired_activity_months_and_keeps_the_audit_trail(events_db) -> None:
    long_ago = datetime(2025, 1, 15, tzinfo=UTC)
    await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(long_ago), months_ahead_count=1, retention=timedelta(days=3650)
    )
    old = [event(0, occur_time=long_ago), event(0, occur_time=long_ago, category=Category.AUDIT)]
    await store_events(old, uow=events_db.uow())
    upkeep = await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(NOW), months_ahead_count=2, retention=timedelta(days=90)
    )
    assert "events_activity_2025_01" in upkeep.dropped and "events_activity_2025_02" in upkeep.dropped
    assert {"events_audit_2025_01", "events_audit_2025_02"} <= await partitions_of(events_db, "events_audit")
    assert not {"events_activity_2025_01"} & await partitions_of(events_db, "events_activity")
    assert await count(events_db) == 1  # the AUDIT event of January 2025


async def test_upkeep_deletes_expired_activity_from_before_the_first_month_and_keeps_its_audit(events_db) -> None:
    """A month with no partition goes to the default one, which no month's DROP ever reaches."""
    keep = partial(keep_partitions, clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90))
    await keep(uow=events_db.uow())
    long_ago, lately = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), NOW - timedelta(days=40)
    audit = event(occur_time=long_ago, category=Category.AUDIT)
    await store_events([event(occur_time=long_ago), audit, event(occur_time=lately)], uow=events_db.uow())
    assert await count(events_db, "tableoid::regclass::text LIKE '%_default'") == 3
    upkeep = await keep(uow=events_db.uow())
    assert upkeep.deleted == 1
    left = await count(events_db, "tableoid::regclass::text LIKE '%_default'")
    assert left == 2 and await count(events_db, f"occur_time = '{long_ago.isoformat()}' AND category = 2") == 1


async def test_upkeep_deletes_expired_activity_from_the_oldest_month_kept(events_db) -> None:
    """Only whole months were dropped: activity outlived the window by up to a month."""
    mid_month = datetime(2027, 3, 15, 12, tzinfo=UTC)
    keep = partial(keep_partitions, clock=FixedClock(mid_month), months_ahead_count=1, retention=timedelta(hours=2))
    await keep(uow=events_db.uow())
    expired, recent = event(occur_time=mid_month - timedelta(hours=3)), event(occur_time=mid_month - timedelta(hours=1))
    audit = event(occur_time=mid_month - timedelta(hours=3), category=Category.AUDIT)
    await store_events([expired, recent, audit], uow=events_db.uow())
    upkeep = await keep(uow=events_db.uow())
    assert upkeep.deleted == 1 and not upkeep.dropped
    assert await count(events_db, f"id = '{expired.id}'") == 0
    assert await count(events_db) == 2


async def test_a_reader_is_replaced_in_their_reading_history_and_nowhere_else(events_db) -> None:
    await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90)
    )
    reader, loan, copy = f"users/{uuid.uuid4()}", f"loans/{uuid.uuid4()}", f"books/9/copies/{uuid.uuid4()}"
    audit = partial(event, 1, category=Category.AUDIT)
    registered = audit(type="athenaeum.users.user_registered", subject=reader, resources=(reader,),
                       attributes={"user.name": reader, "user.role": "USER_ROLE_READER"})  # fmt: skip
    history = audit(type="athenaeum.loans.loan_renewed", actor=reader, subject=loan, resources=(loan, reader),
                    attributes={"loan.patron": reader, "loan.book_title": "Dead Souls"})  # fmt: skip
    # The catalog's record of the reader's hold names them only as its actor (finding F1).
    set_aside = audit(type="athenaeum.catalog.copy_status_changed", actor=reader, subject=copy,
                      resources=("books/9", copy), attributes={"name": copy, "status": "IN_TRANSIT"})  # fmt: skip
    account = audit(type="athenaeum.users.user_updated", actor=reader, subject=reader, resources=(reader,))
    activity = event(1, type="athenaeum.loans.loan_renewed", actor=reader, resources=(reader,))
    await store_events([registered, history, set_aside, account, activity], uow=events_db.uow())
    cmd = AnonymizePatronHistory(reader, requested_by="users/admin")
    assert await anonymize_patron_history(cmd, uow=events_db.uow(), clock=FixedClock(NOW)) == 2
    found = await get_event(history.name, uow=events_db.uow())
    assert (found.actor, found.subject, found.attributes) == (
        "users/anonymous",
        loan,
        {"loan.patron": "users/anonymous", "loan.book_title": "Dead Souls"},
    )
    assert found.resources == (loan, "users/anonymous")
    assert (await get_event(set_aside.name, uow=events_db.uow())).actor == "users/anonymous"
    assert (await get_event(account.name, uow=events_db.uow())).actor == reader
    page = await list_events(ListEvents(build_query(actor=reader)), uow=events_db.uow())
    assert {r.id for r in page.items} == {account.id, activity.id}
    trail = await list_events(ListEvents(build_query(type="athenaeum.events.", subject=reader)), uow=events_db.uow())
    assert [(r.actor, r.attributes) for r in trail.items] == [
        ("users/admin", {"patron": reader, "anonymized_count": "2"})
    ]


async def test_a_staff_account_is_not_anonymised(events_db) -> None:
    await keep_partitions(
        uow=events_db.uow(), clock=FixedClock(NOW), months_ahead_count=1, retention=timedelta(days=90)
    )
    staff = f"users/{uuid.uuid4()}"
    registered = event(1, category=Category.AUDIT, type="athenaeum.users.user_registered", subject=staff,
                       attributes={"user.name": staff, "user.role": "USER_ROLE_LIBRARIAN"})  # fmt: skip
    demoted = replace(registered, id=uuid.uuid4(), type="athenaeum.users.user_updated",
                      attributes={"user.name": staff, "user.role": "USER_ROLE_READER"})  # fmt: skip
    waived = event(1, category=Category.AUDIT, type="athenaeum.loans.fine_waived", actor=staff,
                   resources=(staff,), attributes={"waived_by": staff})  # fmt: skip
    await store_events([registered, demoted, waived], uow=events_db.uow())
    cmd = AnonymizePatronHistory(staff, requested_by="users/admin")
    with pytest.raises(FailedPrecondition):
        await anonymize_patron_history(cmd, uow=events_db.uow(), clock=FixedClock(NOW))
    assert (await get_event(waived.name, uow=events_db.uow())).actor == staff
