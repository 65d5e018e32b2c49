"""The log in time: a partition per category and month, made ahead of time; ACTIVITY partitions older than
the retention window are dropped whole (a DROP, not a DELETE of millions of rows); AUDIT is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from services.events.domain.model import Category


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def partition(self, category: Category) -> str:
        """The table name of this month's partition, e.g. events_activity_2026_12."""
        return f"events_{category.name.lower()}_{self.year:04d}_{self.month:02d}"


def months_ahead(now: datetime, count: int) -> list[Month]:
    """This month and the `count` after it: the partitions that must exist before their events come."""
    months = [Month.of(now)]
    for _ in range(count):
        months.append(months[-1].next())
    return months


def expired(months: list[Month], *, now: datetime, retention: timedelta) -> list[Month]:
    """The months whose every ACTIVITY event is older than the retention window."""
    cutoff = now - retention
    return [month for month in months if month.end <= cutoff]


def parse_partition(name: str, category: Category) -> Month | None:
    """The month of a partition table name of `category` (None for other tables)."""
    prefix = f"events_{category.name.lower()}_"
    digits = name.removeprefix(prefix)
    if not name.startswith(prefix) or len(digits) != 7 or digits[4] != "_":
        return None
    try:
        return Month(int(digits[:4]), int(digits[5:])) if date(int(digits[:4]), int(digits[5:]), 1) else None
    except ValueError:
        return None
