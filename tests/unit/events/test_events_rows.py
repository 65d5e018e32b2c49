"""The rows the store COPYs straight from the wire are those of the records the domain completes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from fakes import Draft, Stamp

from services.events.data.repository import ACCEPTED_COLUMNS, accepted_rows, row
from services.events.data.tables import COLUMNS
from services.events.domain.model import AcceptedBatch

NAME = "events/6F1C2D1E-8B0A-4A57-9D0E-2B7F3F1A9C11"


def batch_of(*drafts: Draft) -> AcceptedBatch:
    return AcceptedBatch("users/u:req", "users/u", datetime(2026, 12, 2, 12, tzinfo=UTC), "a" * 32, drafts)


def test_rows_from_the_wire_are_the_rows_of_the_completed_records() -> None:
    batch = batch_of(
        Draft(),
        Draft(name=NAME, category=2, actor="users/x", subject="books/b", source="web", trace_id="b" * 32),
        Draft(occur_time=Stamp(1_796_000_000, 123_456_789), category=1, attributes={"q": "Мастер", "page": "1"}),
        Draft(occur_time=Stamp(1_796_000_000, 123_456_999)),  # the same microsecond as the one before
    )
    fast = accepted_rows(batch)
    slow = [dict(zip(COLUMNS, row(record), strict=True)) for record in batch.records()]
    assert all(found.pop("resources") == [] for found in slow)  # the column's default, left out of the COPY
    # A name goes to asyncpg as text (a minted id as a UUID): the same UUID.
    assert [dict(zip(ACCEPTED_COLUMNS, (r[0], uuid.UUID(str(r[1])), *r[2:]), strict=True)) for r in fast] == slow


@pytest.mark.parametrize("draft", [Draft(name="events/not-a-uuid"), Draft(category=9)])
def test_a_batch_with_an_event_the_rules_would_refuse_cannot_be_read(draft: Draft) -> None:
    with pytest.raises((ValueError, KeyError)):
        accepted_rows(batch_of(Draft(), draft))


def test_attributes_are_stored_as_compact_json_that_reads_back_the_same() -> None:
    attributes = {"q": 'a "quoted" \\ back\nslash', "title": "Война и мир", "emoji": "📚", "": ""}
    (stored,) = [found[9] for found in accepted_rows(batch_of(Draft(attributes=attributes)))]
    assert json.loads(stored) == attributes
    assert ", " not in stored and '": ' not in stored
