"""Names minted from the batch, defaults filled in, partitions planned by month."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fakes import Draft, Stamp

from services.events.domain.model import AcceptedBatch, Category, batch_key, complete, mint_id, uuid7_millis
from services.events.domain.partitions import Month, expired, months_ahead, parse_partition

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_a_minted_name_is_the_same_on_a_retry_and_carries_the_occur_time() -> None:
    moment = datetime(2026, 11, 30, 8, 15, 1, 234000, tzinfo=UTC)
    first = mint_id("batch", 3, moment)
    assert first == mint_id("batch", 3, moment)
    assert first not in {mint_id("batch", 4, moment), mint_id("other", 3, moment)}
    assert first.version == 7
    assert uuid7_millis(first) == int(moment.timestamp() * 1000)
    assert uuid7_millis(uuid.uuid4()) is None


def test_a_request_id_is_scoped_to_its_recorder_and_content_identifies_a_batch_without_one() -> None:
    assert batch_key(recorder="users/a", request_id="ID", content=b"x").startswith("users/a:id/")
    assert batch_key(recorder="users/a", request_id="", content=b"x") != batch_key(
        recorder="users/b", request_id="", content=b"x"
    )
    assert batch_key(recorder="users/a", request_id="", content=b"x") != batch_key(
        recorder="users/a", request_id="", content=b"y"
    )


def test_another_batch_under_a_used_request_id_is_another_key_so_it_is_not_dropped_as_a_retry() -> None:
    first = batch_key(recorder="users/a", request_id="ID", content=b"x")
    assert first == batch_key(recorder="users/a", request_id="id", content=b"x")
    assert first != batch_key(recorder="users/a", request_id="ID", content=b"y")


def test_an_event_is_completed_with_the_batchs_defaults() -> None:
    batch = AcceptedBatch("key", "users/ada", NOW, "a" * 32, [])
    record = complete(Draft(occur_time=Stamp(1_796_000_000, 123_456_789)), batch, 0)
    assert record.category == Category.ACTIVITY
    assert (record.actor, record.trace_id, record.record_time) == ("users/ada", "a" * 32, NOW)
    assert record.occur_time == datetime.fromtimestamp(1_796_000_000, UTC) + timedelta(microseconds=123_456)
    assert record.id == mint_id("key", 0, record.occur_time)
    named = complete(Draft(name="events/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11", actor="users/bob"), batch, 1)
    assert (str(named.id), named.actor) == ("6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11", "users/bob")


def test_partitions_are_made_for_this_month_and_the_next_ones_across_a_new_year() -> None:
    assert months_ahead(NOW, 2) == [Month(2026, 12), Month(2027, 1), Month(2027, 2)]
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month(2027, 1).partition(Category.ACTIVITY) == "events_activity_2027_01"


def test_only_months_wholly_past_the_retention_expire() -> None:
    months = [Month(2026, 8), Month(2026, 9), Month(2026, 10), Month(2026, 11)]
    assert expired(months, now=NOW, retention=timedelta(days=61)) == [Month(2026, 8), Month(2026, 9)]


def test_partition_names_are_read_back_and_others_ignored() -> None:
    assert parse_partition("events_activity_2026_12", Category.ACTIVITY) == Month(2026, 12)
    assert parse_partition("events_activity_default", Category.ACTIVITY) is None
    assert parse_partition("events_audit_2026_12", Category.ACTIVITY) is None
    assert parse_partition("events_activity_2026_13", Category.ACTIVITY) is None
