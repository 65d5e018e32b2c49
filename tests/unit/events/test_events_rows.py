"""The COPY rows the store makes straight from the wire hold the records the domain completes."""

from __future__ import annotations

import json
import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import Draft, Stamp

from services.events.data.copy_rows import ACCEPTED_COLUMNS, HEADER, TRAILER, AcceptedRows, accepted_rows
from services.events.data.values import attributes_json, each_attributes_json
from services.events.domain.model import AcceptedBatch, EventRecord

NAME = "events/6F1C2D1E-8B0A-4A57-9D0E-2B7F3F1A9C11"
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def batch_of(*drafts: Draft) -> AcceptedBatch:
    return AcceptedBatch("users/u:req", "users/u", datetime(2026, 12, 2, 12, tzinfo=UTC), "a" * 32, drafts)


def read_rows(data: bytes) -> list[dict[str, Any]]:
    """Rows as Postgres reads COPY's binary format for these columns (no header: `accepted_rows`' part)."""
    rows, at = [], 0
    while at < len(data):
        (count,) = struct.unpack_from(">h", data, at)
        assert count == len(ACCEPTED_COLUMNS)
        at += 2
        fields = []
        for _ in range(count):
            (length,) = struct.unpack_from(">i", data, at)
            fields.append(data[at + 4 : at + 4 + length])
            at += 4 + length
        rows.append(dict(zip(ACCEPTED_COLUMNS, fields, strict=True)))
    return [typed(row) for row in rows]


def typed(row: dict[str, bytes]) -> dict[str, Any]:
    texts = ("type", "actor", "subject", "source", "trace_id")
    found: dict[str, Any] = {name: row[name].decode() for name in texts}
    for moment in ("occur_time", "record_time"):
        found[moment] = POSTGRES_EPOCH + timedelta(microseconds=struct.unpack(">q", row[moment])[0])
    found["id"], (found["category"],) = uuid.UUID(bytes=row["id"]), struct.unpack(">h", row["category"])
    assert row["attributes"][:1] == b"\x01", "jsonb's binary version"
    found["attributes"] = json.loads(row["attributes"][1:])
    return found


def stored(record: EventRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in ACCEPTED_COLUMNS}
    return {**values, "category": int(record.category), "attributes": dict(record.attributes)}


def test_rows_from_the_wire_hold_the_completed_records() -> None:
    batch = batch_of(
        Draft(),
        Draft(name=NAME, category=2, actor="users/x", subject="books/b", source="web", trace_id="b" * 32),
        Draft(occur_time=Stamp(1_796_000_000, 123_456_789), category=1, attributes={"q": "Мастер", "page": "1"}),
        Draft(occur_time=Stamp(1_796_000_000, 123_456_999)),  # the same microsecond as the one before
    )
    assert read_rows(accepted_rows(batch)[0]) == [stored(record) for record in batch.records()]
    assert all(not record.resources for record in batch.records())  # the column left to its default


def test_attributes_with_every_special_character_read_back_the_same() -> None:
    attributes = {"q": 'a "quoted" \\ back\\nslash\n\ttab\r', "title": "Война и мир", "emoji": "📚", "": ""}
    data, count = accepted_rows(batch_of(Draft(attributes=attributes), Draft(attributes=attributes)))
    assert count == 2 and [row["attributes"] for row in read_rows(data)] == [attributes, attributes]
    assert b'": ' not in data and b'", ' not in data  # compact JSON


@pytest.mark.parametrize(
    "draft",
    [
        Draft(name="events/not-a-uuid"),
        Draft(category=9),
        Draft(occur_time=Stamp(1_796_000_000, -1)),
        Draft(occur_time=Stamp(1_796_000_000, 1_000_000_000)),
        Draft(occur_time=Stamp(253_402_300_800)),
        Draft(occur_time=Stamp(-1)),
    ],
)
def test_a_batch_with_an_event_the_rules_would_refuse_cannot_be_read(draft: Draft) -> None:
    with pytest.raises((ValueError, KeyError)):
        accepted_rows(batch_of(Draft(), draft))


def test_an_empty_batch_has_no_rows() -> None:
    assert accepted_rows(batch_of()) == (b"", 0)


async def test_the_copy_data_sets_aside_a_batch_it_cannot_read_and_reads_the_same_twice() -> None:
    """The staging path sends the same data a second time: the rows are made once."""
    good, bad = batch_of(Draft(), Draft(actor="users/x")), batch_of(Draft(category=9))
    rows = AcceptedRows([good, bad, good])
    first = [chunk async for chunk in rows.each()]
    assert first[0] == HEADER and first[-1] == TRAILER and len(first) == 4
    assert read_rows(b"".join(first[1:-1])) == [stored(record) for record in good.records() * 2]
    assert rows.unreadable == [1] and rows.count == 4
    assert [chunk async for chunk in rows.each()] == first and rows.count == 4


@pytest.mark.parametrize(
    "maps",
    [
        [{}, {"a": "1"}, {}],
        [{"a": "x},{y", "b": "2"}, {"c": "3"}],
        [{"a": "}", "b": "{"}, {"c": '"},{"'}],
        [{"q": "Мастер", "page": "1"}] * 3,
        [{"q": 'a "quoted" \\ back\\nslash\n\ttab\r', "e": "📚", "": ""}],
        [],
    ],
)
def test_attributes_json_of_a_column_is_each_map_s_compact_json(maps: list[dict[str, str]]) -> None:
    assert each_attributes_json(maps) == [attributes_json(entries).encode() for entries in maps]
    assert [json.loads(text) for text in each_attributes_json(maps)] == maps
    assert all(b'": ' not in text and b'", ' not in text for text in each_attributes_json(maps))


def test_a_batch_whose_events_are_all_named_keeps_each_name_as_its_id() -> None:
    ids = [uuid.uuid4() for _ in range(5)]
    names = [f"events/{str(one).upper() if n % 2 else one}" for n, one in enumerate(ids)]
    batch = batch_of(*(Draft(name=name) for name in names))
    assert [row["id"] for row in read_rows(accepted_rows(batch)[0])] == ids


@pytest.mark.parametrize(
    "names",
    [
        # Two bad names whose text joined reads as two good ones: each name must be one on its own.
        [NAME[:-1], NAME[-1] + NAME],
        [NAME, "events/" + "g" * 36],
        [NAME, NAME + " "],
    ],
)
def test_a_batch_of_named_events_with_a_bad_name_cannot_be_read(names: list[str]) -> None:
    with pytest.raises(ValueError):
        accepted_rows(batch_of(*(Draft(name=name) for name in names)))
