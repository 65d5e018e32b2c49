"""Anonymising a reader's reading history in the audit trail (an admin's call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.events.app.ports import EventsUnitOfWork
from services.events.domain.anonymizing import patron_name


@dataclass(frozen=True, slots=True)
class AnonymizePatronHistory:
    patron: str
    before: datetime | None = None


async def anonymize_patron_history(cmd: AnonymizePatronHistory, *, uow: EventsUnitOfWork) -> int:
    """Replace the reader in their loans', holds', fines' and notices' AUDIT records; returns how many."""
    patron = patron_name(cmd.patron)
    async with uow:
        count = await uow.events.anonymize(patron, before=cmd.before)
        await uow.commit()
    return count
