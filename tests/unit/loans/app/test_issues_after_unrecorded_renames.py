"""A rename the rules followed with no record of it (finding U1): a loans release from before renames were recorded
(loans migration 0023), still running in a rolling upgrade, re-keyed the rules on the catalog's event and took it,
so no record ever comes. An issue of the type's copies no longer waits for it for ever: rules keyed only by codes
the catalog lists are behind no rename, and the rename is recorded as followed. Rules still keyed by the old code
(the event on its way, NF1) or a catalog not answering keep refusing UNAVAILABLE."""

from __future__ import annotations

import asyncio

import pytest

from services.loans.app import following_item_types
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.rule_keys import RulesBehindCatalog
from services.support.runtime.errors import DependencyUnavailable

from ..desk import DESK, Desk
from ..fakes import FakeLoansDatabase
from .test_issues_after_item_type_renames import RENAMED_AT, three_day_rule


@pytest.fixture(autouse=True)
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(following_item_types, "RULES_FOLLOW_WAIT_SECONDS", 0.1)


def renamed_serial(desk: Desk) -> str:
    """The barcode of a copy of type SERIAL, which the catalog has renamed JOURNAL."""
    _book, (copy,) = desk.catalog.add_book(item_type="SERIAL")
    desk.catalog.rename_item_type("SERIAL", "JOURNAL", at=RENAMED_AT)
    return desk.catalog.barcode(copy)


def issue(barcode: str) -> IssueLoan:
    return IssueLoan(patron="users/p1", barcode=barcode, actor=DESK)


async def test_rules_already_on_the_new_code_lend_the_copy_by_its_rule_and_record_the_rename(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    rule = three_day_rule(db, "JOURNAL")  # re-keyed from SERIAL by an older loans process, nothing recorded
    barcode = renamed_serial(desk)
    loan = await asyncio.wait_for(desk.issue(issue(barcode)), 5)
    assert (loan.status, loan.rule, loan.item_type) == (LoanStatus.ACTIVE, rule.name, "JOURNAL")
    assert loan.terms is not None and loan.terms.loan_period_days == 3
    assert db.item_type_renames["JOURNAL"] == RENAMED_AT
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    asked = desk.catalog.item_type_listings
    again = await asyncio.wait_for(desk.issue(issue(barcode)), 0.09)  # recorded: no wait, no question
    assert again.rule == rule.name and desk.catalog.item_type_listings == asked


async def test_rules_still_on_the_old_code_keep_refusing_and_record_nothing(db: FakeLoansDatabase, desk: Desk) -> None:
    three_day_rule(db, "SERIAL")  # the rename's event is still on its way
    barcode = renamed_serial(desk)
    with pytest.raises(RulesBehindCatalog):
        await desk.issue(issue(barcode))
    assert "JOURNAL" not in db.item_type_renames
    assert desk.catalog.status(next(iter(desk.catalog.copies))) == "AVAILABLE"


async def test_a_rule_for_another_type_no_longer_listed_keeps_the_issue_refused(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    three_day_rule(db, "JOURNAL")
    three_day_rule(db, "MAGAZINE")  # MAGAZINE -> SERIAL, say, not followed yet: it may be the old code
    with pytest.raises(RulesBehindCatalog):
        await desk.issue(issue(renamed_serial(desk)))
    assert "JOURNAL" not in db.item_type_renames


async def test_a_catalog_that_cannot_list_its_types_keeps_the_issue_refused(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_day_rule(db, "JOURNAL")

    async def down() -> set[str]:
        raise DependencyUnavailable("catalog is down", reason="CATALOG_UNAVAILABLE")

    monkeypatch.setattr(desk.catalog, "item_type_codes", down)
    with pytest.raises(RulesBehindCatalog):
        await desk.issue(issue(renamed_serial(desk)))
    assert "JOURNAL" not in db.item_type_renames
