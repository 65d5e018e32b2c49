"""The library's calendar use cases: admins close a day or open it again; anyone signed in lists them.

A change applies to loans lent, renewed and holds put on the shelf afterwards: what is due already stays due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, tzinfo

from services.loans.app.pages import number_after
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.calendar import ClosedDay, parse_closed_day_name
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import encode_token, fingerprint, page_size
from services.support.runtime.paging import Page


@dataclass(frozen=True, slots=True)
class CreateClosedDay:
    day: date
    reason: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def create_closed_day(cmd: CreateClosedDay, *, uow: LoansUnitOfWork, clock: Clock, zone: tzinfo) -> ClosedDay:
    """Close the library on a day (ALREADY_EXISTS when it is closed already); `zone`: the library's."""
    cmd.actor.ensure_admin("change the library's calendar")
    closed = ClosedDay.create(cmd.day, cmd.reason, now=clock.now(), zone=zone)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateClosedDay"):
            return await uow.closed_days.get(parse_closed_day_name(previous))
        await uow.closed_days.add(closed)
        await uow.requests.remember(cmd.request_id, "CreateClosedDay", closed.name)
        await uow.commit()
    return closed


@dataclass(frozen=True, slots=True)
class ListClosedDays:
    start: date | None = None
    end: date | None = None
    page_size: int = 0
    page_token: str = ""


async def list_closed_days(cmd: ListClosedDays, *, uow: LoansUnitOfWork) -> Page[ClosedDay]:
    """The closed days between the bounds, earliest first (a few a year: paged in memory, as the rules are)."""
    if cmd.start is not None and cmd.end is not None and cmd.end < cmd.start:
        raise InvalidArgument.field("end_date", "must not be before start_date")
    size = page_size(cmd.page_size)
    query = fingerprint("ListClosedDays", str(cmd.start or ""), str(cmd.end or ""))
    offset = number_after(cmd.page_token, query) or 0
    async with uow.reading():
        days = await uow.closed_days.between(cmd.start, cmd.end)
    token = encode_token([offset + size], query) if offset + size < len(days) else ""
    return Page(days[offset : offset + size], token, len(days))


@dataclass(frozen=True, slots=True)
class DeleteClosedDay:
    day: date
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def delete_closed_day(cmd: DeleteClosedDay, *, uow: LoansUnitOfWork, clock: Clock) -> None:
    """Open the library again on a closed day (NOT_FOUND when it is not closed)."""
    cmd.actor.ensure_admin("change the library's calendar")
    async with uow:
        if await uow.requests.recall(cmd.request_id, "DeleteClosedDay"):
            return
        closed = await uow.closed_days.get(cmd.day)
        closed.delete(now=clock.now())
        await uow.closed_days.delete(closed)
        await uow.requests.remember(cmd.request_id, "DeleteClosedDay", closed.name)
        await uow.commit()
