"""When a loan's patron hears about its due date: a schedule of steps relative to the due time, e.g. three
days before, at the due time, then one, eight and fifteen days after. Pure.

Each step is announced once per loan and due date (a renewal starts the schedule again): the loan records
how many steps it announced, and each step's event id is derived from (loan, renewals, step), so a repeat
(two processes, a crash before the commit was acknowledged) is dropped by the outbox and by JetStream.

A due-soon step is told before the due time or not at all (after it, "due back by …" is false), and steps
whose moment had passed when the due date was set (a loan lent, or renewed, for less than three days) are
not told: the patron was just given the date, and the next step would repeat the same news.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_DAYS = (-3.0, -0.5, 0.5, 7.5, 14.5)
"""Three days before the due time, at midday of the due day (a daily loan is due as the day ends), then at
midday of the first overdue day and every seven days, three times."""


AT_THE_DUE_TIME = (
    "a reminder at the due time itself (0) would go out once the loan is overdue: give the due day a step "
    "before it (e.g. -0.5, midday of the due day) and overdue notices steps after it"
)


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    offsets: tuple[timedelta, ...]
    """From the due time, in order, never zero: before it the step is a LoanDueSoon, after it a LoanOverdue."""

    @classmethod
    def of_days(cls, days: Iterable[float]) -> ReminderSchedule:
        offsets = tuple(sorted(timedelta(days=day) for day in days))
        if timedelta(0) in offsets:
            raise ValueError(AT_THE_DUE_TIME)
        return cls(offsets)

    def steps_before(self, due_at: datetime, moment: datetime) -> int:
        """How many steps come strictly before `moment`."""
        since_due = moment - due_at
        return sum(1 for offset in self.offsets if offset < since_due)

    def step_due(self, due_at: datetime, now: datetime) -> int:
        """The latest step whose moment has come (1 for the first; 0: none yet)."""
        since_due = now - due_at  # not `due_at + offset`: a due date in the first days of year 1 has no such date
        return sum(1 for offset in self.offsets if offset <= since_due)

    def moment(self, due_at: datetime, step: int) -> datetime | None:
        """When `step` comes; None past the last step."""
        return due_at + self.offsets[step - 1] if 1 <= step <= len(self.offsets) else None

    def is_overdue_step(self, step: int) -> bool:
        return self.offsets[step - 1] > timedelta(0)


def reminder_event_id(loan_id: uuid.UUID, renewals: int, step: int) -> uuid.UUID:
    """The same announcement always has the same id, whoever makes it and however often."""
    return uuid.uuid5(loan_id, f"reminder {renewals}:{step}")


DEFAULT_SCHEDULE = ReminderSchedule.of_days(DEFAULT_DAYS)
