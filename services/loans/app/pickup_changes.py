"""A hold's pickup branch changed while it waits (UpdateHold): a reader who chose the wrong branch, or whose hold
waits for a branch the library no longer lists (the queue passes such a hold over, finding upgrade F2), had to
cancel and place it again, losing their place in the queue. Koha lets staff and (by preference) the patron change
the pickup location of a hold not yet captured; Evergreen likewise. The hold keeps its place (its queue order is
its placing), and once a copy is set aside for it the branch is fixed: the copy is bound for that hold shelf.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import tzinfo

from services.loans.app.follow_ups import after_commit
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import serve_queue
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.hold_record import HOLD
from services.loans.domain.holds import Hold
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument

_UPDATE = "UpdateHold"
WRITABLE = ("pickup_branch",)
"""The hold's fields an UpdateHold may change (by the API's names)."""


@dataclass(frozen=True, slots=True)
class UpdateHold:
    hold_id: uuid.UUID
    pickup_branch: str = ""
    update_mask: tuple[str, ...] = ()
    """The fields to change; "*" or none: every writable one."""
    etag: str = ""
    """The hold's etag as the caller read it ("" no check)."""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


def _paths(mask: tuple[str, ...]) -> tuple[str, ...]:
    """The fields the mask names; INVALID_ARGUMENT on `update_mask` for one that cannot change."""
    if not mask or mask == ("*",):
        return WRITABLE
    if unknown := [path for path in mask if path not in WRITABLE]:
        writable = ", ".join(WRITABLE)
        raise InvalidArgument.field(
            "update_mask", f"unknown or read-only field(s): {', '.join(unknown)}; writable: {writable}"
        )
    return mask


async def update_hold(cmd: UpdateHold, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog, zone: tzinfo) -> Hold:
    """The WAITING hold picked up at `cmd.pickup_branch`, one of the library's branches (`uow.branches`), from
    now on, at its place in the queue; its own reader or staff. A hold the queue passed over (its branch not
    listed) is served at once: a copy on the open shelf is set aside for it when it is next in line (`zone`: the
    library's, for holds the queue makes READY). The answer is the hold as it is then."""
    if _paths(cmd.update_mask) and not cmd.pickup_branch.strip():
        raise InvalidArgument.field("hold.pickup_branch", "give the branch code the hold is to be picked up at")
    async with uow:
        previous = await uow.requests.recall(cmd.request_id, _UPDATE)
        hold = await uow.holds.get(HOLD.parse_id(previous) if previous else cmd.hold_id, for_update=True)
        cmd.actor.ensure_may_act_for(hold.patron, "change the holds")  # a retry too: the id is no pass
        if previous:
            return hold
        hold.check_etag(cmd.etag)
        branch = uow.branches.ensure_pickup(cmd.pickup_branch, home_branch="")  # PlaceHold's check and spelling
        changed = hold.change_pickup_branch(branch, now=clock.now(), changed_by=cmd.actor.user)
        if changed:
            await uow.holds.save(hold)
        await uow.requests.remember(cmd.request_id, _UPDATE, hold.name)
        await uow.commit()
    if not changed:
        return hold
    await after_commit(serve_queue(hold.book, uow=uow, clock=clock, catalog=catalog, zone=zone), hold.name)
    return await after_commit(_as_it_is(hold.id, uow), hold.name) or hold


async def _as_it_is(hold_id: uuid.UUID, uow: LoansUnitOfWork) -> Hold:
    """The hold with its queue position (or IN_TRANSIT, when the queue set a copy aside for it)."""
    async with uow.reading():
        return await uow.holds.get(hold_id)
