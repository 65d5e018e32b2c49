"""A change of an account's email or phone is told to the addresses it had before: whoever holds a session
and the password cannot move the account to a mailbox of their own without the owner's hearing of it. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from services.notifications.domain.kinds import Kind
from services.notifications.domain.occurrences import Occurrence
from services.notifications.domain.recipients import Recipient


def mask_email(email: str) -> str:
    """ada.new@example.org -> a…@example.org: enough for the owner to tell it, not a new address to give away."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if at and local else ""


def mask_phone(phone: str) -> str:
    """+15550002222 -> +1…22."""
    return f"{phone[:2]}…{phone[-2:]}" if len(phone) > 4 else ""


def address_changes(
    before: Recipient, after: Recipient, *, event_id: uuid.UUID, at: datetime, trace: Mapping[str, str]
) -> tuple[Occurrence, ...]:
    """The notices an account's update asks for: one per changed address, routed by the account as it was
    (its addresses, its choice of SMS), each with an event id of its own (one per kind, the same on every
    redelivery of the event). None when `before` is no earlier profile of the account (the first one seen,
    or only a status heard of so far)."""
    if before.version == 0 or after.version <= before.version:
        return ()
    changes: list[tuple[Kind, dict[str, str | datetime]]] = []
    if after.email != before.email:
        changes.append((Kind.EMAIL_CHANGED, {"new_email": mask_email(after.email), "changed_at": at}))
    if after.phone != before.phone:
        changes.append((Kind.PHONE_CHANGED, {"new_phone": mask_phone(after.phone), "changed_at": at}))
    return tuple(
        Occurrence(
            event_id=uuid.uuid5(event_id, kind.value),
            occurred_at=at,
            kind=kind,
            recipient_id=before.user_id,
            facts=facts,
            trace=dict(trace),
            as_was=before,
        )
        for kind, facts in changes
    )
