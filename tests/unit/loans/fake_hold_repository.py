"""The in-memory hold repository over one fake transaction (fakes.Transaction), as data/holds keeps holds:
in the order they were placed, each with its place in its book's queue."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from services.loans.app.hold_queries import HoldCursor, hold_cursor
from services.loans.app.list_requests import HoldFilter, PageRequest
from services.loans.domain.hold_record import ACTIVE_HOLD_STATUSES, HOLD, HoldStatus
from services.loans.domain.holds import Hold, HoldNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.paging import Page, page_from_rows

if TYPE_CHECKING:
    from .fakes import Transaction


class FakeHoldRepository:
    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction
        self._seq = transaction.database.hold_seq

    def _in_order(self) -> list[Hold]:
        return sorted(self._tx.rows("holds").values(), key=lambda hold: self._seq[hold.id])

    def _positioned(self, hold: Hold) -> Hold:
        """A copy with its place among the book's WAITING holds (as the SQL repository computes it)."""
        handed = copy.deepcopy(hold)
        waiting = [h for h in self._in_order() if h.book == hold.book and h.status == HoldStatus.WAITING]
        ahead = [h for h in waiting if self._seq[h.id] <= self._seq[hold.id]]
        handed.queue_position = len(ahead) if hold.status == HoldStatus.WAITING else 0
        return handed

    async def add(self, hold: Hold) -> None:
        if any(h.patron == hold.patron and h.book == hold.book and h.is_active for h in self._in_order()):
            raise AlreadyExists(f"{hold.patron} already holds {hold.book}", reason="HOLD_EXISTS")
        self._seq.setdefault(hold.id, len(self._seq) + 1)  # a sequence: not given back on rollback
        self._tx.stage("holds", hold)

    async def get(self, hold_id: uuid.UUID, *, for_update: bool = False) -> Hold:
        row = self._tx.rows("holds").get(hold_id)
        if row is None:
            raise HoldNotFound(HOLD.format(hold_id))
        if for_update:
            self._tx.locked.add(str(hold_id))
            self._tx.row_locks.add(hold_id)
            self._tx.database.row_locks.add(hold_id)
        return self._tx.hand_out("holds", self._positioned(row))

    async def save(self, hold: Hold) -> None:
        if hold.id in self._tx.database.row_locks and hold.id not in self._tx.row_locks:
            # Postgres: the UPDATE waits for the locker's commit, then finds the version it read changed (the
            # locker's change); a test's step run inside the locker's call cannot wait, so it loses at once.
            raise Conflict(f"{hold.name} was changed concurrently; re-read it and retry", reason=CONCURRENT_UPDATE)
        self._tx.check_version("holds", hold, seen=hold.version)
        if hold.set_aside and any(
            h.id != hold.id and h.set_aside and h.copy == hold.copy for h in self._tx.rows("holds").values()
        ):  # the SQL repository's holds_one_set_aside_per_copy
            raise Conflict(f"{hold.copy} is set aside for another hold here; retry", reason=CONCURRENT_UPDATE)
        hold.version += 1
        self._tx.stage("holds", hold)

    async def active_for(self, patron: str, book: str) -> Hold | None:
        found = [h for h in self._in_order() if h.patron == patron and h.book == book and h.is_active]
        return self._tx.hand_out("holds", found[0]) if found else None

    async def count_active(self, patron: str) -> int:
        return sum(1 for h in self._in_order() if h.patron == patron and h.status in ACTIVE_HOLD_STATUSES)

    async def active_of(self, patron: str) -> list[Hold]:
        return [self._tx.hand_out("holds", h) for h in self._in_order() if h.patron == patron and h.is_active]

    async def others_waiting(self, book: str, patron: str) -> bool:
        return any(h.book == book and h.patron != patron and h.status == HoldStatus.WAITING for h in self._in_order())

    async def needing_attention(self, now: datetime, *, limit: int = 200) -> list[Hold]:
        due = [
            h
            for h in self._in_order()
            if (h.status == HoldStatus.READY and h.expire_at is not None and h.expire_at < now)
            or (not h.is_active and not h.shelf_released)
        ]
        return [self._tx.hand_out("holds", h) for h in due[:limit]]

    async def waiting(self, book: str, *, limit: int, after: uuid.UUID | None = None) -> list[Hold]:
        behind = -1 if after is None else self._seq[after]
        queue = [
            h
            for h in self._in_order()
            if h.book == book and h.status == HoldStatus.WAITING and self._seq[h.id] > behind
        ]
        return [self._tx.hand_out("holds", h) for h in queue[:limit]]

    async def books_with_waiting(self, *, after: str = "", limit: int) -> list[str]:
        waiting = {h.book for h in self._in_order() if h.status == HoldStatus.WAITING and h.book > after}
        return sorted(waiting)[:limit]

    async def active_pickup_branches(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for hold in self._in_order():
            if hold.status in ACTIVE_HOLD_STATUSES:
                counted[hold.pickup_branch] = counted.get(hold.pickup_branch, 0) + 1
        return counted

    async def list_in_queue_order(self, where: HoldFilter, *, page: PageRequest[HoldCursor]) -> Page[Hold]:
        matching = [h for h in self._in_order() if _matches(h, where)]
        shown = lambda h: h.expire_at if h.status == HoldStatus.READY else None  # noqa: E731  (as the API shows it)
        if where.by_deadline:  # soonest deadline first, those without one last, then placing order
            matching.sort(key=lambda h: (shown(h) is None, shown(h) or datetime.min, self._seq[h.id]))
        key = lambda h: (shown(h) if where.by_deadline else None, self._seq[h.id])  # noqa: E731
        start = 0 if page.after is None else next((i for i, h in enumerate(matching) if key(h) == page.after), -1) + 1
        listed = page_from_rows(
            matching[start : start + page.size + 1],
            limit=page.size,
            query=page.query,
            cursor_of=lambda hold: hold_cursor(*key(hold), by_deadline=where.by_deadline),
            total_size=len(matching),
        )
        return listed.map(self._positioned)

    async def undescribed(self, *, limit: int) -> list[Hold]:
        return [
            self._tx.hand_out("holds", h)
            for h in self._in_order()
            if h.is_active and (not h.book_title or (h.set_aside and h.copy and not h.barcode))
        ][:limit]

    async def set_aside_with(self, copy: str) -> list[Hold]:
        return [self._tx.hand_out("holds", h) for h in self._in_order() if h.set_aside and h.copy == copy]

    async def shelf_records(self, names: Sequence[str]) -> dict[str, tuple[uuid.UUID, str]]:
        return {h.name: (h.id, h.copy) for h in self._in_order() if h.name in names}

    async def set_aside_copies(self) -> dict[str, tuple[str, HoldStatus]]:
        return {h.copy: (h.name, h.status) for h in self._in_order() if h.set_aside}

    async def sharing_copies(self) -> list[tuple[str, str]]:
        named = [h.copy for h in self._in_order() if h.set_aside]
        return [(h.name, h.copy) for h in self._in_order() if h.set_aside and named.count(h.copy) > 1]

    async def last_ended_with(self, copy_name: str) -> Hold | None:
        ended = [h for h in self._in_order() if h.copy == copy_name and not h.is_active]
        return copy.deepcopy(max(ended, key=lambda h: h.updated_at)) if ended else None


def _matches(hold: Hold, where: HoldFilter) -> bool:
    """As data/holds.hold_conditions."""
    branch = where.where
    to_pull = hold.status == HoldStatus.IN_TRANSIT and hold.to_pull
    pulled_from = (hold.hold_shelf_branch or hold.copy_branch).strip().lower()
    return (
        (not where.patron or hold.patron == where.patron)
        and (where.status is None or hold.status == where.status)
        and (not where.book or hold.book == where.book)
        and (not branch.pickup_branch or hold.pickup_branch.strip().lower() == branch.pickup_branch)
        and (not branch.pull_branch or (to_pull and pulled_from == branch.pull_branch))
        and (branch.to_pull is None or to_pull == branch.to_pull)
    )
