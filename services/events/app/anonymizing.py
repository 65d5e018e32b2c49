"""Anonymising a reader's reading history in the audit trail (an admin's call), itself recorded there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.events.app.ports import EventsUnitOfWork
from services.events.domain.anonymizing import anonymization_record, check_reader, patron_name
from services.support.runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class AnonymizePatronHistory:
    patron: str
    requested_by: str
    """The admin who asks: the trail records who rewrote it."""
    before: datetime | None = None
    trace_id: str = ""


async def anonymize_patron_history(cmd: AnonymizePatronHistory, *, uow: EventsUnitOfWork, clock: Clock) -> int:
    """Replace the reader in their reading history's AUDIT records and record that it was done, in one
    transaction; returns how many records held them. A staff account is refused (domain: check_reader)."""
    patron = patron_name(cmd.patron)
    async with uow:
        check_reader(patron, await uow.events.account_roles(patron))
        count = await uow.events.anonymize(patron, before=cmd.before)
        record = anonymization_record(
            patron=patron, requested_by=cmd.requested_by, count=count, before=cmd.before, now=clock.now(),
            trace_id=cmd.trace_id,
        )  # fmt: skip
        await uow.events.add([record])
        await uow.commit()
    return count
