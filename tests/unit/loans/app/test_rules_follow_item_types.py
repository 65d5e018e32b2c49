"""The circulation rules follow the catalog's item types: a rename re-keys them (the new code's rule kept on a
conflict), a deletion deletes them; once per catalog event, in one transaction, each change on the audit trail."""

from __future__ import annotations

import copy
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.loans.app.following_item_types import (
    ItemTypeDeleted,
    ItemTypeRenamed,
    follow_item_type_deletion,
    follow_item_type_rename,
)
from services.loans.domain.rules import CirculationRule, CirculationRuleChanged, RuleTerms, most_specific
from services.support.runtime.clock import FixedClock

from ..fake_peers import FakeCatalog
from ..fakes import FakeLoansDatabase

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MADE = NOW - timedelta(days=30)


def stored(db: FakeLoansDatabase, category: str, item_type: str, *, at: datetime = MADE, **terms: int) -> uuid.UUID:
    """A rule as an admin made it (an item type kept from before codes were checked, as the catalog lists it)."""
    rule = CirculationRule.create(RuleTerms(category, item_type, **terms), now=at, listed_item_type=item_type)
    rule.events.clear()
    db.rules[rule.id] = copy.deepcopy(rule)
    return rule.id


def keys(db: FakeLoansDatabase) -> set[tuple[str, str]]:
    return {(rule.terms.patron_category, rule.terms.item_type) for rule in db.rules.values()}


def rule_events(db: FakeLoansDatabase) -> list[CirculationRuleChanged]:
    return [event for event in db.events if isinstance(event, CirculationRuleChanged)]


async def rename(db: FakeLoansDatabase, old: str, new: str, event_id: uuid.UUID | None = None) -> None:
    command = ItemTypeRenamed(event_id or uuid.uuid4(), old, new)
    await follow_item_type_rename(command, uow=db.unit_of_work(), clock=FixedClock(NOW))


async def test_a_renamed_item_types_rules_follow_it_so_its_copies_keep_their_terms(db: FakeLoansDatabase) -> None:
    dvds = stored(db, "*", "DVD/CD", loan_period_days=7)
    stored(db, "STUDENT", "DVD/CD", loan_period_days=3)
    await rename(db, "DVD/CD", "DVD")
    assert keys(db) == {("*", "*"), ("*", "DVD"), ("STUDENT", "DVD")}
    rules = list(db.rules.values())
    assert most_specific(rules, "ADULT", "DVD").terms.loan_period_days == 7  # not the */* default's 14
    assert most_specific(rules, "STUDENT", "DVD").terms.loan_period_days == 3
    rekeyed = db.rules[dvds]
    assert (rekeyed.version, rekeyed.updated_at) == (2, NOW)
    event = next(e for e in rule_events(db) if e.rule.id == dvds)
    assert (event.changed, event.previous and event.previous.item_type, event.deleted) == (
        ("item_type",),
        "DVD/CD",
        False,
    )
    assert event.note == "item type DVD/CD renamed DVD in the catalog"


async def test_a_rename_onto_a_code_with_its_own_rule_keeps_the_new_codes_rule_and_says_so(
    db: FakeLoansDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    old = stored(db, "*", "DVD/CD", loan_period_days=7)
    new = stored(db, "*", "DVD", loan_period_days=21)
    stored(db, "STUDENT", "DVD/CD", loan_period_days=3)
    with caplog.at_level(logging.WARNING, logger="athenaeum.loans.item_types"):
        await rename(db, "DVD/CD", "DVD")
    assert keys(db) == {("*", "*"), ("*", "DVD"), ("STUDENT", "DVD")}
    assert db.rules[new].terms.loan_period_days == 21 and db.rules[new].version == 1
    (retired,) = [event for event in rule_events(db) if event.deleted]
    assert retired.rule.id == old
    assert "a rule for */DVD already exists and is kept" in retired.note
    assert "*/DVD/CD" in caplog.text


async def test_a_rename_delivered_again_changes_nothing(db: FakeLoansDatabase) -> None:
    stored(db, "*", "DVD/CD", loan_period_days=7)
    event_id = uuid.uuid4()
    await rename(db, "DVD/CD", "DVD", event_id)
    events, commits = len(db.events), db.commits
    await rename(db, "DVD/CD", "DVD", event_id)
    assert len(db.events) == events
    assert keys(db) == {("*", "*"), ("*", "DVD")}
    # Without the ledger (its entry expired) it still finds nothing left to re-key.
    await rename(db, "DVD/CD", "DVD")
    assert len(db.events) == events and db.commits >= commits


async def test_the_default_rule_and_other_types_rules_are_left_alone(db: FakeLoansDatabase) -> None:
    books = stored(db, "*", "BOOK", loan_period_days=21)
    await rename(db, "DVD/CD", "DVD")
    await rename(db, "*", "DVD")
    assert keys(db) == {("*", "*"), ("*", "BOOK")}
    assert db.rules[books].version == 1 and not rule_events(db)


async def test_a_deleted_item_types_rules_are_deleted_with_it(db: FakeLoansDatabase) -> None:
    dvds = stored(db, "*", "DVD", loan_period_days=7)
    stored(db, "*", "BOOK")
    command = ItemTypeDeleted(uuid.uuid4(), "DVD", deleted_at=NOW - timedelta(minutes=1))
    followed = await follow_item_type_deletion(
        command, uow=db.unit_of_work(), clock=FixedClock(NOW), catalog=catalog_listing("BOOK")
    )
    assert [rule.id for rule in followed.retired] == [dvds]
    assert keys(db) == {("*", "*"), ("*", "BOOK")}
    (event,) = rule_events(db)
    assert event.deleted and event.note == "item type DVD deleted from the catalog"


async def test_a_rule_made_after_the_type_was_deleted_and_created_again_stays(db: FakeLoansDatabase) -> None:
    deleted_at = NOW - timedelta(hours=1)
    stored(db, "*", "DVD", at=deleted_at - timedelta(days=1))
    newer = stored(db, "STUDENT", "DVD", at=deleted_at + timedelta(minutes=5))
    command = ItemTypeDeleted(uuid.uuid4(), "DVD", deleted_at=deleted_at)
    await follow_item_type_deletion(
        command, uow=db.unit_of_work(), clock=FixedClock(NOW), catalog=catalog_listing("DVD")
    )
    assert keys(db) == {("*", "*"), ("STUDENT", "DVD")}
    assert newer in db.rules


async def test_a_rule_edited_as_its_type_was_deleted_goes_with_it_unless_the_type_is_listed_again(
    db: FakeLoansDatabase,
) -> None:
    """NF4: the edit, a moment after the deletion, kept the rule for a type the catalog no longer had; it
    waited to govern any type made one day with that code."""
    deleted_at = NOW - timedelta(seconds=2)
    edited = stored(db, "*", "QUARTO", at=deleted_at + timedelta(milliseconds=300))
    command = ItemTypeDeleted(uuid.uuid4(), "QUARTO", deleted_at=deleted_at)
    followed = await follow_item_type_deletion(
        command, uow=db.unit_of_work(), clock=FixedClock(NOW), catalog=catalog_listing("BOOK")
    )
    assert [rule.id for rule in followed.retired] == [edited] and keys(db) == {("*", "*")}


async def test_a_deletion_followed_while_the_catalog_is_away_goes_by_its_time(db: FakeLoansDatabase) -> None:
    deleted_at = NOW - timedelta(hours=1)
    older = stored(db, "*", "DVD", at=deleted_at - timedelta(days=1))
    newer = stored(db, "STUDENT", "DVD", at=deleted_at + timedelta(minutes=5))
    away = catalog_listing("DVD")
    away.down = True
    command = ItemTypeDeleted(uuid.uuid4(), "DVD", deleted_at=deleted_at)
    await follow_item_type_deletion(command, uow=db.unit_of_work(), clock=FixedClock(NOW), catalog=away)
    assert older not in db.rules and newer in db.rules


def catalog_listing(*codes: str) -> FakeCatalog:
    return FakeCatalog(item_types=set(codes))
