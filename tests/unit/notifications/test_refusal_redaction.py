"""What a mail server or SMS provider answered is kept (and copied into the audit trail) without the reader's
address, any other email address or phone number."""

from __future__ import annotations

import pytest

from services.notifications.domain.delivery import MAX_REASON, Failed, redacted

from .test_delivery import _cycle, _queue_email


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        (
            "550 5.1.1 <Reader@Example.org>: Recipient address rejected: User unknown in virtual mailbox table",
            "550 5.1.1 <[address]>: Recipient address rejected: User unknown in virtual mailbox table",
        ),
        (
            "400 21211 The 'To' number +1 555-010-9999 is not a valid phone number.",
            "400 21211 The 'To' number [number] is not a valid phone number.",
        ),
        ("400 21614 '79991234567' is not a mobile number", "400 21614 '[number]' is not a mobile number"),
        ("451 4.7.1 greylisted, try again later", "451 4.7.1 greylisted, try again later"),
    ],
)
def test_addresses_and_numbers_are_taken_out_of_a_refusal(said: str, kept: str) -> None:
    assert redacted(said) == kept


def test_a_long_refusal_is_cut() -> None:
    assert len(redacted("552 " + "x" * 1000)) == MAX_REASON


async def test_a_failed_notification_keeps_the_refusal_without_the_address(db, clock, renderer, catalog) -> None:
    queued = await _queue_email(db, clock, renderer, catalog)
    said = f"550 5.1.1 <{queued.address}>: Recipient address rejected: User unknown"
    stored = await _cycle(db, clock, Failed(said, transient=False))
    assert stored.last_error == "permanent: 550 5.1.1 <[address]>: Recipient address rejected: User unknown"
    assert queued.address not in stored.last_error
