"""The COPY lines the store makes straight from the wire hold the records the domain completes."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes import Draft, Stamp

from services.events.data.copy_text import ACCEPTED_COLUMNS, accepted_text
from services.events.data.values import attributes_json, each_attributes_json
from services.events.domain.model import AcceptedBatch, EventRecord

NAME = "events/6F1C2D1E-8B0A-4A57-9D0E-2B7F3F1A9C11"
_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def batch_of(*drafts: Draft) -> AcceptedBatch:
    return AcceptedBatch("users/u:req", "users/u", datetime(2026, 12, 2, 12, tzinfo=UTC), "a" * 32, drafts)


def read_line(line: str) -> dict[str, Any]:
    """A line as Postgres reads COPY text: fields split at tabs, then each one's escapes undone."""
    fields = [re.sub(r"\\[\\tnr]", lambda found: _UNESCAPES[found.group()], text) for text in line.split("\t")]
    found: dict[str, Any] = dict(zip(ACCEPTED_COLUMNS, fields, strict=True))
    found["occur_time"] = datetime.fromisoformat(found["occur_time"])
    found["record_time"] = datetime.fromisoformat(found["record_time"])
    found["id"], found["category"] = uuid.UUID(found["id"]), int(found["category"])
    found["attributes"] = json.loads(found["attributes"])
    return found


def stored(record: EventRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in ACCEPTED_COLUMNS}
    return {**values, "category": int(record.category), "attributes": dict(record.attributes)}


def test_lines_from_the_wire_hold_the_completed_records() -> None:
    batch = batch_of(
        Draft(),
        Draft(name=NAME, category=2, actor="users/x", subject="books/b", source="web", trace_id="b" * 32),
        Draft(occur_time=Stamp(1_796_000_000, 123_456_789), category=1, attributes={"q": "Мастер", "page": "1"}),
        Draft(occur_time=Stamp(1_796_000_000, 123_456_999)),  # the same microsecond as the one before
    )
    assert [read_line(line) for line in accepted_lines(batch)] == [stored(record) for record in batch.records()]
    assert all(not record.resources for record in batch.records())  # the column left to its default


def test_attributes_with_every_escape_read_back_the_same() -> None:
    attributes = {"q": 'a "quoted" \\ back\\nslash\n\ttab\r', "title": "Война и мир", "emoji": "📚", "": ""}
    (line,) = accepted_lines(batch_of(Draft(attributes=attributes)))
    assert line.count("\t") == len(ACCEPTED_COLUMNS) - 1 and "\n" not in line and "\r" not in line
    assert read_line(line)["attributes"] == attributes
    assert '": ' not in line and '", ' not in line  # compact JSON
    assert accepted_text(batch_of(Draft(attributes=attributes), Draft(attributes=attributes)))[1] == 2


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
        accepted_lines(batch_of(Draft(), draft))


def test_an_empty_batch_has_no_lines() -> None:
    assert accepted_text(batch_of()) == (b"", 0)


def accepted_lines(batch: AcceptedBatch) -> list[str]:
    """The batch's COPY data as lines (no value holds a raw line break: COPY text escapes them)."""
    text, count = accepted_text(batch)
    lines = text.decode().split("\n")
    assert lines[-1] == "" and len(lines) == count + 1, "one line per event, each ended by a line break"
    return lines[:-1]


def test_a_batch_whose_escapes_sit_in_one_event_reads_back_the_same() -> None:
    drafts = [Draft(attributes={"q": "plain"}) for _ in range(5)]
    drafts[3] = Draft(subject="books/x", source="web", attributes={"q": "tab\there", "n": "back\\slash"})
    batch = batch_of(*drafts)
    assert [read_line(line) for line in accepted_lines(batch)] == [stored(record) for record in batch.records()]


@pytest.mark.parametrize(
    "maps",
    [
        [{}, {"a": "1"}, {}],
        [{"a": "x},{y", "b": "2"}, {"c": "3"}],  # the text between two objects, inside a value
        [{"a": "}", "b": "{"}, {"c": '"},{"'}],
        [{"q": "Мастер", "page": "1"}] * 3,
        [],
    ],
)
def test_attributes_json_of_a_column_is_each_map_s_json(maps: list[dict[str, str]]) -> None:
    assert each_attributes_json(maps) == [attributes_json(entries) for entries in maps]
    assert [json.loads(text) for text in each_attributes_json(maps)] == maps
