"""Fines (Decimal, audit trail, pay / waive) and holds (ready, pickup window, expiry, cancel)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from services.loans.fines import Fine, FineKind, FinePaid, FineStatus, FineWaived
from services.loans.holds import Hold, HoldExpired, HoldReady, HoldStatus
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


def hold() -> Hold:
    return Hold.place(patron="users/p", book="books/b", pickup_branch="MAIN", pickup_days=3, now=NOW)


def test_a_ready_hold_waits_on_the_shelf_for_the_pickup_window_then_expires() -> None:
    waiting = hold()
    waiting.make_ready("books/b/copies/c", now=NOW)
    assert waiting.status == HoldStatus.READY and waiting.expire_at == NOW + timedelta(days=3)
    assert isinstance(waiting.events[-1], HoldReady)
    assert not waiting.expire(now=NOW + timedelta(days=2))
    assert waiting.expire(now=NOW + timedelta(days=3))
    assert isinstance(waiting.events[-1], HoldExpired)
    assert waiting.copy_left_on_shelf  # until the catalog releases it


def test_a_fulfilled_hold_leaves_nothing_on_the_shelf() -> None:
    ready = hold()
    ready.make_ready("books/b/copies/c", now=NOW)
    ready.fulfil("loans/l", now=NOW)
    assert ready.status == HoldStatus.FULFILLED and not ready.copy_left_on_shelf
    with pytest.raises(FailedPrecondition):
        ready.cancel("changed my mind", now=NOW)


def test_cancelling_a_waiting_hold_releases_nothing() -> None:
    waiting = hold()
    waiting.cancel("changed my mind", now=NOW)
    assert waiting.status == HoldStatus.CANCELLED and not waiting.copy_left_on_shelf


PURE = ["domain.py", "borrowing.py", "rules.py", "fines.py", "holds.py"]


@pytest.mark.parametrize("module", PURE)
def test_loans_domain_modules_import_no_infrastructure(module: str) -> None:
    path = Path(__file__).resolve().parents[3] / "services" / "loans" / module
    roots = {
        (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "module", "x")
    }
    assert not roots & {"grpc", "sqlalchemy", "nats", "asyncpg", "athenaeum", "google"}
