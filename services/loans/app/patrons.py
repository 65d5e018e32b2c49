"""Keeping the projection of accounts (domain/patrons.py) from the users service's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from services.loans.app.follow_ups import after_commit
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.shelf import release_and_pass_on
from services.loans.domain.holds import ACCOUNT_CLOSED
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.clock import Clock


async def keep_account(
    record: PatronRecord,
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog | None = None,
    zone: tzinfo = UTC,
) -> bool:
    """Store what an event says of an account, unless a newer version of it is stored (events of one account
    can arrive out of order: several loans processes share the consumer). Whether it was stored.

    A closed account's open holds are cancelled with it (as Evergreen does on purge): left open they would
    keep their place, and a READY or IN_TRANSIT one its copy set aside, for someone who will not borrow again.
    That copy is released and passed on at once, as CancelHold does, through `catalog` (given by the
    consumer; without it, or if the catalog cannot be reached, the reconciler's next pass does it): left set
    aside, a desk scanning it was told to put it back while the next reader waited."""
    async with uow:
        stored = await uow.patrons.keep_newer(record)
        ended = []
        if stored and record.closed:
            for hold in await uow.holds.active_of(record.patron):
                hold.cancel(ACCOUNT_CLOSED, now=clock.now())
                await uow.holds.save(hold)
                ended.append(hold)
        await uow.commit()
    if catalog is not None:
        for hold in ended:
            if hold.copy_left_on_shelf:
                release = release_and_pass_on(hold.id, uow=uow, clock=clock, catalog=catalog, zone=zone)
                await after_commit(release, f"the cancel of {hold.name}")
    return stored


@dataclass(frozen=True, slots=True)
class StreamSeen:
    """The users stream as the projection's consumer finds it before it (re)subscribes."""

    stream: str
    created: str
    """The stream's creation time as NATS reports it: another value is another stream."""
    lost_messages: bool
    """Messages left the stream (its age limit) before the consumer was given them."""


async def follow_stream(cmd: StreamSeen, *, uow: LoansUnitOfWork) -> bool:
    """A projection goes on only from the stream it was built from, with nothing lost in between. Another
    stream (NATS's storage lost and the stream made again) or messages gone unread may hide a change: then
    every record is forgotten, and issues ask the users service until new events bring them back. Whether it
    forgot."""
    async with uow:
        followed = await uow.patrons.followed_stream(cmd.stream)
        forget = cmd.lost_messages or (followed is not None and followed != cmd.created)
        if forget:
            await uow.patrons.forget_all()
        await uow.patrons.follow(cmd.stream, cmd.created)
        await uow.commit()
    return forget


async def forget_accounts(*, uow: LoansUnitOfWork) -> int:
    """A users event that cannot be read may have been a change of any account: every record is forgotten
    (issues ask the users service until new events bring them back). How many there were."""
    async with uow:
        forgotten = await uow.patrons.forget_all()
        await uow.commit()
    return forgotten
