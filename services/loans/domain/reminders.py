"""When a loan's patron hears about its due date: a schedule of steps relative to the due time, e.g. three
days before, at the due time, then one, eight and fifteen days after. Pure.

Each step is announced once per loan and due date (a renewal starts the schedule again): the loan records
how many steps it announced, and each step's event id is derived from (loan, renewals, step), so a repeat
(two processes, a crash before the commit was acknowledged) is dropped by the outbox and by JetStream.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_DAYS = (-3.0, 0.0, 1.0, 8.0, 15.0)
"""Three days before the due time, at it, then on the first overdue day and every seven days, three times."""


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    offsets: tuple[timedelta, ...]
    """From the due time, in order; up to zero the step is a LoanDueSoon, after it a LoanOverdue."""

    @classmethod
    def of_days(cls, days: Iterable[float]) -> ReminderSchedule:
        return cls(tuple(sorted(timedelta(days=day) for day in days)))

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
