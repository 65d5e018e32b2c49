"""Reminders notifications schedule for themselves (a hold about to expire, the digest of an hour's new books
by a followed author): the due ones are told, once."""

from __future__ import annotations

import uuid

from services.notifications.app import projection
from services.notifications.app.notifying import Rules, TakenIn, tell
from services.notifications.app.ports import Accounts, NotificationsUnitOfWork, TemplateRenderer
from services.notifications.domain.follows import told_together
from services.notifications.domain.occurrences import Intake
from services.support.runtime.clock import Clock


async def send_due_reminders(
    *,
    limit: int,
    uow: NotificationsUnitOfWork,
    clock: Clock,
    renderer: TemplateRenderer,
    rules: Rules,
    accounts: Accounts | None = None,
) -> TakenIn:
    """Take the reminders due now (locked: another process takes others) and queue their notifications in
    the same transaction, so a reminder is neither lost nor told twice. A recipient the projection does not
    hold is asked of `accounts`; one without an account is told nothing."""
    now = clock.now()
    async with uow:
        due = await uow.reminders.take_due(now, limit=limit)
        if not due:
            return TakenIn()
        told = [told_together(r) if r.occurrence.gathered else r.occurrence for r in due]  # a digest: its books
        intakes = [Intake(o.event_id, occurrences=(o,)) for o in told]
        people = {r.occurrence.recipient_id for r in due}
        recipients, nobody = await uow.recipients.get_many(people), set[uuid.UUID]()
        if accounts is not None and (asked := projection.unknown(people, recipients)):
            recipients, nobody = await projection.fill_in(recipients, asked, accounts=accounts, uow=uow)
        intakes = [intake.without(nobody) for intake in intakes]
        taken = await tell(intakes, uow=uow, now=now, renderer=renderer, rules=rules, recipients=recipients)
        if taken.waiting:  # not in the projection, and the users service away: keep those reminders for later
            await uow.reminders.schedule([r for r, o in zip(due, told, strict=True) if o.event_id in taken.waiting])
        await uow.commit()
    return taken
