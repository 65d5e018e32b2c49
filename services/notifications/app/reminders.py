"""Reminders notifications schedule for themselves (a hold about to expire): the due ones are told, once."""

from __future__ import annotations

from services.notifications.app.notifying import Rules, TakenIn, tell
from services.notifications.app.ports import NotificationsUnitOfWork, TemplateRenderer
from services.notifications.domain.occurrences import Intake
from services.support.runtime.clock import Clock


async def send_due_reminders(
    *, limit: int, uow: NotificationsUnitOfWork, clock: Clock, renderer: TemplateRenderer, rules: Rules
) -> TakenIn:
    """Take the reminders due now (locked: another process takes others) and queue their notifications in
    the same transaction, so a reminder is neither lost nor told twice."""
    now = clock.now()
    async with uow:
        due = await uow.reminders.take_due(now, limit=limit)
        if not due:
            return TakenIn()
        intakes = [Intake(r.occurrence.event_id, occurrences=(r.occurrence,)) for r in due]
        taken = await tell(intakes, uow=uow, now=now, renderer=renderer, rules=rules)
        if taken.waiting:  # the recipient vanished from the projection: keep those reminders for later
            await uow.reminders.schedule([r for r in due if r.occurrence.event_id in taken.waiting])
        await uow.commit()
    return taken
