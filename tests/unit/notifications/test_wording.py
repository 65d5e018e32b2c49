"""Notices say what is true and write as their language does: a due-soon reminder invites a renewal only
while one is possible, and amounts read as 1,234.50 RUB in English and 1 234,50 ₽ in Russian."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.notifications.domain.kinds import Channel
from services.notifications.domain.wording import Money, format_amount
from services.support.runtime.wire import event_subject, timestamp

from .conftest import NOON
from .fakes import recipient
from .test_decoding import DECODER
from .test_intake import _take

NBSP = "\u00a0"


def _intake(event):
    return DECODER.intake(event_subject("loans", event), event.SerializeToString(), trace={})


def test_amounts_are_written_as_the_language_writes_them() -> None:
    assert format_amount(Decimal("1234.50"), locale="en") == "1,234.50"
    assert format_amount(Decimal("1234.50"), locale="ru") == f"1{NBSP}234,50"
    assert Money(Decimal("1234567.5"), "RUB").words("ru") == f"1{NBSP}234{NBSP}567,5 ₽"
    assert Money(Decimal("12.00"), "EUR").words("en") == "12.00 EUR"


async def test_a_russian_fine_notice_reads_1_234_50_roubles(db, clock, renderer, catalog) -> None:
    boris = recipient(locale="ru", sms_opt_in=False)
    db.recipients[boris.user_id] = boris
    fine = resources_pb2.Fine(name="fines/f1", patron=boris.name, amount="1234.50", currency_code="RUB")
    event = loans.FineAssessed(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), fine=fine)
    (email,) = (await _take(db, clock, renderer, catalog, _intake(event))).queued
    assert f"штраф 1{NBSP}234,50 ₽" in email.content.text and "RUB" not in email.content.text


@pytest.mark.parametrize(
    ("locale", "naming"), [("ru", "за «The Master and Margarita»"), ("en", "The Master and Margarita")]
)
async def test_a_fine_notice_names_the_book_of_its_loan(db, clock, renderer, catalog, locale, naming) -> None:
    boris = recipient(locale=locale, sms_opt_in=False)
    db.recipients[boris.user_id] = boris
    fine = resources_pb2.Fine(name="fines/f1", patron=boris.name, loan="loans/l1", amount="0.90", currency_code="EUR")
    event = loans.FineAssessed(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), fine=fine, book="books/b1")
    (email,) = (await _take(db, clock, renderer, catalog, _intake(event))).queued
    assert email.params["book_title"] == "The Master and Margarita" and naming in email.content.text


@pytest.mark.parametrize(("renewals", "invited"), [(0, True), (2, False)])
@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_due_soon_reminder_invites_a_renewal_only_while_one_is_left(
    db, clock, renderer, catalog, renewals, invited, locale
) -> None:
    ada = recipient(locale=locale)
    db.recipients[ada.user_id] = ada
    due = timestamp(NOON + timedelta(days=2))
    loan = resources_pb2.Loan(name="loans/l1", patron=ada.name, book_title="Dead Souls", barcode="B1",
                              due_time=due, renewal_count=renewals, max_renewals=2)  # fmt: skip
    event = loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), loan=loan, step=1)
    queued = (await _take(db, clock, renderer, catalog, _intake(event))).queued
    word = {"en": "renew", "ru": "продл"}[locale]
    assert {n.channel for n in queued} == {Channel.EMAIL, Channel.SMS}
    assert all((word in n.content.text.lower()) == invited for n in queued)


@pytest.mark.parametrize("renewable", [True, False])
async def test_a_due_soon_reminder_invites_a_renewal_only_when_loans_says_one_could_extend_it(
    db, clock, renderer, catalog, renewable
) -> None:
    """Renewals left, but the rule's hard due date reached: loans says no renewal could extend it (A11)."""
    ada = recipient()
    db.recipients[ada.user_id] = ada
    loan = resources_pb2.Loan(name="loans/l1", patron=ada.name, book_title="Dead Souls", barcode="B1",
                              due_time=timestamp(NOON + timedelta(days=2)), max_renewals=2)  # fmt: skip
    event = loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), loan=loan, step=1,
                              renewable=renewable)  # fmt: skip
    queued = (await _take(db, clock, renderer, catalog, _intake(event))).queued
    assert len(queued) == 2 and all(("renew" in n.content.text.lower()) == renewable for n in queued)
