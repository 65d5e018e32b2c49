"""An issue made in the moments after the catalog renamed the copy's item type (finding NF1): the catalog's copy
already has the new code while the rules, following the catalog's event, may still be keyed by the old one. The
loan waits for them and is lent by the renamed type's rule, never by the "*" default; rules that do not follow
in time refuse the issue UNAVAILABLE, the copy put back, and a retry lends it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.loans.app import following_item_types
from services.loans.app.following_item_types import ItemTypeRenamed, follow_item_type_rename
from services.loans.app.issuing import IssueLoan
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.rule_keys import RenamesFollowed, RulesBehindCatalog
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import DependencyUnavailable

from ..desk import DESK, NOW, Desk
from ..fakes import FakeLoansDatabase

RENAMED_AT = datetime(2026, 11, 2, 8, 59, 59, tzinfo=UTC)


def three_day_rule(db: FakeLoansDatabase, item_type: str) -> CirculationRule:
    rule = CirculationRule.create(RuleTerms("*", item_type, loan_period_days=3), now=NOW, listed_item_type=item_type)
    rule.events.clear()
    db.rules[rule.id] = rule
    return rule


def renamed_copy(desk: Desk) -> str:
    """A copy of type CD whose type the catalog has just renamed DVD (the rules not told yet): its name."""
    _book, (copy,) = desk.catalog.add_book(item_type="CD")
    desk.catalog.rename_item_type("CD", "DVD", at=RENAMED_AT)
    return copy


async def follow(db: FakeLoansDatabase) -> None:
    renamed = ItemTypeRenamed(uuid.uuid4(), "CD", "DVD", renamed_at=RENAMED_AT)
    await follow_item_type_rename(renamed, uow=db.unit_of_work(), clock=FixedClock(NOW))


def issue(barcode: str, request_id: uuid.UUID | None = None) -> IssueLoan:
    return IssueLoan(patron="users/p1", barcode=barcode, request_id=request_id, actor=DESK)


async def test_an_issue_right_after_a_rename_waits_for_the_rules_and_is_lent_by_the_types_rule(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    rule = three_day_rule(db, "CD")
    issuing = asyncio.create_task(desk.issue(issue(desk.catalog.barcode(renamed_copy(desk)))))
    await asyncio.sleep(0.2)  # the issue is waiting: the event is still on its way
    assert not issuing.done()
    await follow(db)
    loan = await asyncio.wait_for(issuing, 5)
    assert (loan.status, loan.rule, loan.item_type) == (LoanStatus.ACTIVE, rule.name, "DVD")
    assert loan.terms is not None and loan.terms.loan_period_days == 3  # not the */* default's 14
    assert loan.due_at is not None and loan.due_at.date() == NOW.date() + timedelta(days=3)


async def test_an_issue_the_rules_do_not_catch_up_with_is_refused_unavailable_and_the_copy_put_back(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(following_item_types, "RULES_FOLLOW_WAIT_SECONDS", 0.1)
    rule = three_day_rule(db, "CD")
    copy = renamed_copy(desk)
    barcode, request_id = desk.catalog.barcode(copy), uuid.uuid4()
    with pytest.raises(RulesBehindCatalog) as refused:
        await desk.issue(issue(barcode, request_id))
    assert isinstance(refused.value, DependencyUnavailable) and refused.value.retry_after
    assert refused.value.reason == "ITEM_TYPE_RENAME_IN_FLIGHT" and "retry" in refused.value.message
    (failed,) = db.loans.values()
    assert failed.status == LoanStatus.FAILED and failed.compensated
    assert desk.catalog.status(copy) == "AVAILABLE" and not desk.catalog.copies[copy].current_loan
    await follow(db)
    loan = await desk.issue(issue(barcode, request_id))  # the retry, with the same request_id
    assert (loan.status, loan.rule) == (LoanStatus.ACTIVE, rule.name)


async def test_a_copy_of_a_type_renamed_before_renames_were_recorded_is_lent_at_once(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    rule = three_day_rule(db, "DVD")  # re-keyed by a loans service that kept no record of renames
    _book, (copy,) = desk.catalog.add_book(item_type="CD")
    desk.catalog.rename_item_type("CD", "DVD", at=datetime(2025, 12, 31, tzinfo=UTC))
    loan = await asyncio.wait_for(desk.issue(issue(desk.catalog.barcode(copy))), 1)
    assert loan.rule == rule.name


def test_renames_followed_cover_a_copy_by_its_codes_newest_rename_or_the_unrecorded_ones() -> None:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    followed = RenamesFollowed({"DVD": at, "*": at - timedelta(days=1)})
    assert followed.cover("BOOK", None) and followed.cover("DVD", at) and followed.cover("CD", at - timedelta(days=2))
    assert not followed.cover("DVD", at + timedelta(seconds=1))  # renamed back and forth since: not yet followed
    assert not followed.cover("CD", at)
