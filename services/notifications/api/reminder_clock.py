"""The clock that sends scheduled reminders (a hold about to expire, a followed author's digest)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from services.notifications.app import reminders
from services.notifications.app.notifying import Rules
from services.notifications.app.ports import Accounts, NotificationsUnitOfWork, TemplateRenderer
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Status
from services.support.runtime.clock import Clock

log = logging.getLogger("athenaeum.notifications.delivery")


class ReminderClock:
    """Sends scheduled reminders when they fall due (every process runs one; each reminder is taken once)."""

    def __init__(
        self,
        *,
        uow: Callable[[], NotificationsUnitOfWork],
        clock: Clock,
        renderer: TemplateRenderer,
        rules: Rules,
        poll_seconds: float,
        on_queued: Callable[[Channel], None],
        accounts: Accounts | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._renderer = renderer
        self._rules = rules
        self._poll_seconds = poll_seconds
        self._on_queued = on_queued
        self._accounts = accounts

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # the database is away: the reminders wait for the next tick
                log.exception("sending due reminders failed")
            await asyncio.sleep(self._poll_seconds)

    async def tick(self) -> int:
        """Send what is due now; returns how many notifications were queued."""
        taken = await reminders.send_due_reminders(
            limit=500,
            uow=self._uow(),
            clock=self._clock,
            renderer=self._renderer,
            rules=self._rules,
            accounts=self._accounts,
        )
        for channel in {n.channel for n in taken.queued if n.status == Status.QUEUED}:
            self._on_queued(channel)
        return len(taken.queued)
