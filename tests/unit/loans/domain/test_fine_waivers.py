"""A waiver forgives what an overdue fine owed when it was given, not the days still to come: the fine grows
and owes again, the cap bounds the whole charge, and payments before and after add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.loans.domain.fines import Fine, FineKind, FineStatus, FineWaived
from services.loans.domain.rules import RuleTerms

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=10)
TERMS = RuleTerms("*", "*", fine_per_day=Decimal("0.10"), fine_cap=Decimal("5.00"))


def overdue_for(days: int) -> Fine:
    return Fine.assess(
        patron="users/p",
        kind=FineKind.OVERDUE,
        amount=TERMS.overdue_fine(days),
        currency="RUB",
        now=NOW,
        actor="system",
        loan="loans/l",
    )


def test_days_after_a_waiver_are_owed_again() -> None:
    """Waived at 0.60 (6 days), 10 more days: 1.60 in all, 0.60 of it forgiven, 1.00 owed."""
    fine = overdue_for(6)
    fine.waive("the holiday days", now=NOW, actor="users/librarian")
    assert (fine.status, fine.outstanding, fine.waived) == (FineStatus.WAIVED, Decimal("0.00"), Decimal("0.60"))
    assert fine.accrue_to(TERMS.overdue_fine(16), now=LATER, actor="system")
    assert (fine.amount, fine.waived, fine.paid) == (Decimal("1.60"), Decimal("0.60"), Decimal("0.00"))
    assert (fine.status, fine.outstanding) == (FineStatus.OUTSTANDING, Decimal("1.00"))
    assert fine.waive_reason == "the holiday days"  # the waiver stays on the fine, and on the audit trail
    assert [(e.kind, e.amount, e.actor) for e in fine.new_entries] == [
        ("ASSESSED", Decimal("0.60"), "system"),
        ("WAIVER", Decimal("0.60"), "users/librarian"),
        ("ACCRUED", Decimal("1.00"), "system"),
    ]


def test_the_cap_bounds_the_whole_charge_the_waived_part_included() -> None:
    """Cap 1.00: waived at 0.60, the later days can add at most 0.40, however many there are."""
    capped = RuleTerms("*", "*", fine_per_day=Decimal("0.10"), fine_cap=Decimal("1.00"))
    fine = overdue_for(6)
    fine.waive("goodwill", now=NOW, actor="users/librarian")
    assert fine.accrue_to(capped.overdue_fine(30), now=LATER, actor="system")
    assert (fine.amount, fine.outstanding, fine.waived) == (Decimal("1.00"), Decimal("0.40"), Decimal("0.60"))
    fine.waive("goodwill again", now=LATER, actor="users/head")
    assert not fine.accrue_to(capped.overdue_fine(40), now=LATER, actor="system")  # at the cap: waived for good
    assert (fine.status, fine.outstanding, fine.waived) == (FineStatus.WAIVED, Decimal("0.00"), Decimal("1.00"))
    assert [e.waived_by for e in fine.events if isinstance(e, FineWaived)] == ["users/librarian", "users/head"]


def test_payments_before_and_after_a_waiver_add_up() -> None:
    """0.40 paid of 0.60, the 0.20 left waived, 10 more days: 1.00 owed, paid in two parts."""
    fine = overdue_for(6)
    fine.pay(Decimal("0.40"), now=NOW, actor="users/librarian", method="cash")
    fine.waive("the rest", now=NOW, actor="users/librarian")
    assert fine.waived == Decimal("0.20")
    fine.accrue_to(TERMS.overdue_fine(16), now=LATER, actor="system")
    assert (fine.status, fine.outstanding) == (FineStatus.OUTSTANDING, Decimal("1.00"))
    fine.pay(Decimal("0.30"), now=LATER, actor="users/librarian")
    assert (fine.status, fine.outstanding) == (FineStatus.OUTSTANDING, Decimal("0.70"))
    fine.pay(Decimal("0.70"), now=LATER, actor="users/librarian")
    assert (fine.status, fine.outstanding) == (FineStatus.PAID, Decimal("0.00"))
    assert fine.paid + fine.waived == fine.amount == Decimal("1.60")
    assert all(isinstance(x, Decimal) for x in (fine.amount, fine.paid, fine.waived, fine.outstanding))


def test_a_waiver_written_by_an_older_release_stays_a_waiver() -> None:
    """After a rollback the release from before waived amounts were kept waives a fine (status WAIVED, waived 0)
    on the new schema; rolled forward, that waiver forgave the 0.50 then owed, and only later days are owed."""
    fine = overdue_for(5)
    old_release_waiver = Fine(
        id=fine.id,
        patron=fine.patron,
        kind=fine.kind,
        amount=fine.amount,
        currency=fine.currency,
        created_at=NOW,
        updated_at=NOW,
        loan=fine.loan,
        status=FineStatus.WAIVED,
        waive_reason="waived under the previous release",
    )
    assert (old_release_waiver.outstanding, old_release_waiver.waived) == (Decimal("0.00"), Decimal("0.50"))
    assert old_release_waiver.accrue_to(TERMS.overdue_fine(10), now=LATER, actor="system")
    assert (old_release_waiver.status, old_release_waiver.outstanding) == (FineStatus.OUTSTANDING, Decimal("0.50"))
