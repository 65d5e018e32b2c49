"""A reader's recording budget: one free account recorded ~14,000 events a second through 1,000-event
batches (the edge's rate limit counts requests), slowing everyone else's recording 300-fold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import LIBRARIAN, READER, Draft, FakeJournal

from services.events.app.recording import RecordEvents, record_events
from services.events.domain.budget import MAX_TRACKED, BudgetPolicy, RecordingBudget
from services.events.domain.model import Recorder
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument, Throttled

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POLICY = BudgetPolicy(per_second=10, burst=100)


def test_a_reader_spends_a_burst_then_what_the_rate_gives_back() -> None:
    budget = RecordingBudget(POLICY)
    budget.take(READER, 100, now=NOW)
    with pytest.raises(Throttled) as refused:
        budget.take(READER, 20, now=NOW + timedelta(seconds=1))  # 10 came back
    assert refused.value.reason == "RECORDING_BUDGET" and refused.value.retry_after == 1
    budget.take(READER, 20, now=NOW + timedelta(seconds=2))
    budget.take(Recorder("users/another-reader", staff=False), 100, now=NOW)  # each reader has their own


def test_staff_are_not_counted_and_a_batch_larger_than_the_burst_is_invalid() -> None:
    budget = RecordingBudget(POLICY)
    for _ in range(50):
        budget.take(LIBRARIAN, 1000, now=NOW)
    with pytest.raises(InvalidArgument):
        budget.take(READER, 101, now=NOW)


def test_readers_whose_bucket_refilled_are_forgotten_past_the_cap() -> None:
    budget = RecordingBudget(POLICY)
    for n in range(MAX_TRACKED + 1):
        budget.take(Recorder(f"users/r{n}", staff=False), 1, now=NOW)
    budget.take(Recorder("users/late", staff=False), 1, now=NOW + timedelta(minutes=1))
    assert len(budget._buckets) == 1  # every other bucket was full again a minute later


async def test_a_reader_over_the_budget_journals_nothing() -> None:
    journal, budget = FakeJournal(), RecordingBudget(POLICY)
    cmd = RecordEvents(events=[Draft()] * 100, payload=b"batch", recorder=READER)
    await record_events(cmd, journal=journal, clock=FixedClock(NOW), budget=budget)
    with pytest.raises(Throttled):
        await record_events(cmd, journal=journal, clock=FixedClock(NOW), budget=budget)
    assert len(journal.batches) == 1
