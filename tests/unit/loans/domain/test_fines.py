"""Fines: Decimal amounts, the audit trail, payments and waivers, an overdue fine that only grows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.loans.domain.fines import Fine, FineKind, FinePaid, FineStatus, FineWaived
from services.support.runtime.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def fine(amount: str = "3.00") -> Fine:
    return Fine.assess(
        patron="users/p", kind=FineKind.LOST_ITEM, amount=Decimal(amount), currency="RUB", now=NOW, actor="users/s"
    )


def test_partial_then_full_payment_leaves_an_audit_trail() -> None:
    owed = fine()
    owed.pay(Decimal("1.25"), now=NOW, actor="users/s", method="cash")
    assert owed.status == FineStatus.OUTSTANDING and owed.outstanding == Decimal("1.75")
    owed.pay(Decimal("1.75"), now=NOW, actor="users/s", method="card")
    assert owed.status == FineStatus.PAID and owed.outstanding == Decimal("0.00")
    assert [(e.kind, e.amount, e.method) for e in owed.new_entries] == [
        ("ASSESSED", Decimal("3.00"), ""),
        ("PAYMENT", Decimal("1.25"), "cash"),
        ("PAYMENT", Decimal("1.75"), "card"),
    ]
    assert sum(isinstance(e, FinePaid) for e in owed.events) == 2


def test_paying_more_than_owed_or_nothing_is_refused() -> None:
    owed = fine()
    for bad in ("3.01", "0", "-1"):
        with pytest.raises(InvalidArgument):
            owed.pay(Decimal(bad), now=NOW, actor="users/s")


def test_a_waived_fine_owes_nothing_and_cannot_be_paid() -> None:
    owed = fine()
    with pytest.raises(InvalidArgument):
        owed.waive("  ", now=NOW, actor="users/s")
    owed.waive("first offence", now=NOW, actor="users/s")
    assert owed.outstanding == Decimal("0.00") and isinstance(owed.events[-1], FineWaived)
    assert owed.new_entries[-1].reason == "first offence"
    with pytest.raises(FailedPrecondition) as closed:
        owed.pay(Decimal("1"), now=NOW, actor="users/s")
    assert closed.value.reason == "FINE_NOT_OUTSTANDING"


def test_an_overdue_fine_only_grows() -> None:
    overdue = fine("0.50")
    assert overdue.accrue_to(Decimal("1.50"), now=NOW, actor="system")
    assert not overdue.accrue_to(Decimal("1.00"), now=NOW, actor="system")
    assert overdue.amount == Decimal("1.50") and overdue.new_entries[-1].amount == Decimal("1.00")
