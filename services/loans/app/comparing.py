"""The reconciler's comparison of the catalog with loans' own records, for every copy loans put into
circulation, and the repairs loans may make on its own:

- a copy on loan for one of our loans that has ended (or failed) is checked back in;
- a copy set aside for a hold of ours (on the hold shelf, or in transit to it) is given to it (a WAITING hold
  becomes READY, or IN_TRANSIT, with it; an IN_TRANSIT hold whose copy the catalog has on the hold shelf, received
  there, becomes READY; an ended hold's copy is released and offered to the next in the queue, a copy one too
  many is taken off the shelf);
- a hold whose copy the catalog has set aside for nobody (LOST, DAMAGED, WITHDRAWN, or released) or for
  another hold is WAITING again at its place (set_aside_drift.py: a reportCopyMissing or a pass-over cut by a
  crash);
- a copy out on a loan or shelved for a hold we never recorded, an active loan whose copy the catalog does
  not have out on it, and a hold whose copy is not set aside for it (READY: on the shelf), are reported for
  staff. (A copy out on a loan not recorded here is checked in when staff take it back: returning it by barcode, see
  unrecorded.py; checked in here, it would be offered to the queue while it is most likely with a patron.)

The catalog is read first and loans after, so a step under way between the two reads looks like drift: a loan
that moved within the saga timeout (an issue or a return, or a declaration of loss, under way or just done) is
left alone, neither reported nor repaired, until its saga's own timeout has passed; a hold shelf mismatch is read
again on both sides before it is reported or repaired (`_agree_now`).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from services.loans.app.passing_over import may_not_borrow, pass_over
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.app.receiving import record_received
from services.loans.app.set_aside_drift import displace, requeue_unheld
from services.loans.app.set_aside_from import taken_from
from services.loans.app.shelf import serve_queue, shelved
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.branches import LibraryBranches
from services.loans.domain.hold_record import HOLD, HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.loan_record import LOAN
from services.support.runtime.clock import Clock
from services.support.runtime.errors import DomainError, NotFound
from services.support.runtime.names import NamePattern


async def compare_with_catalog(
    discrepancies: list[str],
    *,
    uow: LoansUnitOfWork,
    clock: Clock,
    catalog: Catalog,
    saga_timeout: timedelta,
    zone: tzinfo,
    dry_run: bool,
) -> None:
    """Compare and repair; what staff must look at is appended to `discrepancies` (`zone`: the library's time
    zone, whose days a hold made READY here waits to the end of)."""
    try:
        circulating = await catalog.copies_in_circulation()
    except DomainError as error:
        discrepancies.append(f"could not compare with the catalog: {error.message}")
        return
    comparison = _Comparison(discrepancies, uow, clock, catalog, saga_timeout, zone, dry_run)
    await comparison.loans([copy for copy in circulating if copy.status == "ON_LOAN"])
    # A copy a cataloguer sent IN_TRANSIT (no hold) is not circulation's.
    await comparison.shelf([copy for copy in circulating if copy.status == "ON_HOLD_SHELF" or copy.held])


def ours(names: Iterable[str], pattern: NamePattern) -> list[str]:
    """The names among `names` that are well-formed names of ours (the catalog may hold anything)."""
    return [name for name in names if pattern.matches(name)]


@dataclass(frozen=True, slots=True)
class _Comparison:
    discrepancies: list[str]
    uow: LoansUnitOfWork
    clock: Clock
    catalog: Catalog
    saga_timeout: timedelta
    zone: tzinfo
    dry_run: bool

    async def loans(self, on_loan: list[CopyInfo]) -> None:
        now = self.clock.now()
        catalog_view = {copy.name: copy.current_loan for copy in on_loan}
        async with self.uow:
            active = await self.uow.loans.active_copies()
            statuses = await self.uow.loans.statuses(ours((copy.current_loan for copy in on_loan), LOAN))
            in_flight = await self._in_flight(on_loan, active, catalog_view, now)
        for copy in on_loan:
            if active.get(copy.name) == copy.current_loan:
                continue
            if copy.current_loan in in_flight or active.get(copy.name) in in_flight:
                continue  # an issue or a return under way (or just done) between the two reads
            status = statuses.get(copy.current_loan, (None, "", now))[0]
            if status is None:  # most likely out with its patron: checked in when staff take it back
                self.discrepancies.append(
                    f"{copy.name} is out on {copy.current_loan or 'no loan'} in the catalog, which is not recorded"
                    " here (lost with a restored backup?): its return by barcode at the desk checks it in"
                )
                continue
            self.discrepancies.append(
                f"{copy.name} is out on {copy.current_loan} in the catalog, which is {status.lower()} here"
            )
            if not self.dry_run:  # a loan of ours that ended: the copy is back
                await _check_back_in(copy.name, copy.current_loan, self.catalog)
        for copy_name, loan in active.items():
            if catalog_view.get(copy_name) != loan and not {loan, catalog_view.get(copy_name)} & in_flight:
                self.discrepancies.append(f"{loan} is active here but the catalog does not have {copy_name} out on it")

    async def _in_flight(
        self, on_loan: list[CopyInfo], active: Mapping[str, str], catalog_view: Mapping[str, str], now: datetime
    ) -> set[str]:
        """The loans of a mismatch that moved within the saga timeout (made, issued, their return or loss begun
        or done): their saga may be under way, its catalog step and loans' on either side of the two reads, and
        its own timeout has not passed (after it, the reconciler finishes or undoes a saga left half-way)."""
        mismatched = [
            *(copy.current_loan for copy in on_loan if active.get(copy.name) != copy.current_loan),
            *(loan for copy_name, loan in active.items() if catalog_view.get(copy_name) != loan),
        ]
        moved = await self.uow.loans.moved_at(ours(mismatched, LOAN)) if mismatched else {}
        return {loan for loan, at in moved.items() if at > now - self.saga_timeout}

    async def _agree_now(self, copy_name: str, hold_id: uuid.UUID) -> bool:
        """Whether the copy and the hold agree when read again, one after the other: the catalog and loans were
        read at different moments, so a step under way between them (a hold placed or passed on, a cancel, a
        receipt: the catalog's change, then loans') looked like drift. One that still disagrees is drift."""
        try:
            copy = await self.catalog.get_copy(copy_name)
            async with self.uow.reading():
                hold = await self.uow.holds.get(hold_id)
        except NotFound:
            return False
        except DomainError:
            return False  # not readable now: reported as it was seen
        held_for = copy.held and copy.current_hold == hold.name
        if hold.set_aside and hold.copy == copy.name:
            return held_for and _agrees(copy, (hold.name, hold.status))
        return not held_for

    async def _ended_with(self, copy: CopyInfo) -> None:
        """The hold has ended, yet the catalog keeps its copy on the shelf (settle_holds, earlier in this pass,
        released what it knew of; an undone issue can put a copy back for its hold after that hold's release
        was done). The catalog refuses it unless the copy is still on the shelf for that hold."""
        self.discrepancies.append(f"{copy.name} is {_where(copy)} for {copy.current_hold}, which has ended")
        if self.dry_run:
            return
        with contextlib.suppress(DomainError):
            await self.catalog.release(copy=copy.name, hold=copy.current_hold)
            await serve_queue(copy.book, uow=self.uow, clock=self.clock, catalog=self.catalog, zone=self.zone)

    async def shelf(self, on_shelf: list[CopyInfo]) -> None:
        async with self.uow:
            holds = await self.uow.holds.shelf_records(ours((copy.current_hold for copy in on_shelf), HOLD))
            set_aside = await self.uow.holds.set_aside_copies()
            sharing = await self.uow.holds.sharing_copies()
        for copy in on_shelf:
            known = holds.get(copy.current_hold)
            if known is None:
                self.discrepancies.append(
                    f"{copy.name} is {_where(copy)} for {copy.current_hold or 'no hold'} unknown here"
                )
                continue
            hold_id, recorded_copy = known
            if recorded_copy == copy.name:
                await self._recorded(copy, hold_id, set_aside.get(copy.name))
                continue
            if await self._agree_now(copy.name, hold_id):
                continue
            self.discrepancies.append(
                f"{copy.name} is {_where(copy)} for {copy.current_hold}, which does not have it here"
            )
            if not self.dry_run:  # a crash between the catalog's step and ours: finish ours
                with contextlib.suppress(DomainError):
                    await self._displace(copy, set_aside.get(copy.name))
                    at_desk, hold_shelf = await taken_from(copy, uow=self.uow, within=self.saga_timeout)
                    await shelved(
                        hold_id,
                        copy.name,
                        in_transit=copy.in_transit,
                        at_desk=at_desk,
                        copy_branch=copy.branch,
                        hold_shelf_branch=hold_shelf,
                        uow=self.uow,
                        clock=self.clock,
                        catalog=self.catalog,
                        zone=self.zone,
                    )
        shelf_view = {copy.name: copy.current_hold for copy in on_shelf}
        for hold_name, copy_name in sharing:  # the map above shows one hold of a copy: the others are here
            if shelf_view.get(copy_name) != hold_name:
                self.discrepancies.append(f"{hold_name} names {copy_name}, which another hold here names too")
                if not self.dry_run:
                    with contextlib.suppress(DomainError):
                        await displace(HOLD.parse_id(hold_name), copy_name, uow=self.uow, clock=self.clock)
        for copy_name, (hold, status) in set_aside.items():
            if shelf_view.get(copy_name) != hold and not await self._agree_now(copy_name, HOLD.parse_id(hold)):
                where = "on the shelf" if status == HoldStatus.READY else "set aside"
                self.discrepancies.append(
                    f"{hold} is {status.lower().replace('_', ' ')} here but the catalog does not have {copy_name}"
                    f" {where} for it"
                )
                if self.dry_run:
                    continue
                if shelf_view.get(copy_name):  # set aside for another hold: the catalog's keeps it
                    with contextlib.suppress(DomainError):
                        await displace(HOLD.parse_id(hold), copy_name, uow=self.uow, clock=self.clock)
                    continue
                await self._unheld(copy_name, HOLD.parse_id(hold))

    async def _displace(self, copy: CopyInfo, named_here: tuple[str, HoldStatus] | None) -> None:
        """Another hold than the catalog's still names `copy` here (a pass-over cut after the catalog released the
        copy and the queue served it, finding C4): the catalog's hold keeps it, the other waits at its place."""
        if named_here is None or named_here[0] == copy.current_hold:
            return
        self.discrepancies.append(f"{named_here[0]} names {copy.name}, set aside for {copy.current_hold}: requeued")
        await displace(HOLD.parse_id(named_here[0]), copy.name, uow=self.uow, clock=self.clock)

    async def _unheld(self, copy_name: str, hold_id: uuid.UUID) -> None:
        """The catalog has `copy_name` set aside for nobody while a hold here names it: a step cut after the
        catalog's change (reportCopyMissing, a pass-over), finished here (set_aside_drift.py)."""
        with contextlib.suppress(DomainError):
            copy = await self.catalog.get_copy(copy_name)
            await requeue_unheld(hold_id, copy, uow=self.uow, clock=self.clock, catalog=self.catalog, zone=self.zone)

    async def _recorded(self, copy: CopyInfo, hold_id: uuid.UUID, active: tuple[str, HoldStatus] | None) -> None:
        """The catalog has `copy` set aside for a hold that has it here: ended, or received on the hold shelf by
        the catalog while IN_TRANSIT here (a crash after ReceiveHoldCopy's catalog step: READY now)."""
        if _agrees(copy, active) or await self._agree_now(copy.name, hold_id):
            return
        if active is None or active[0] != copy.current_hold:
            await self._ended_with(copy)
        elif active[1] == HoldStatus.IN_TRANSIT and not copy.in_transit:
            self.discrepancies.append(f"{copy.name} is on the hold shelf for {copy.current_hold}, in transit here")
            if not self.dry_run:
                with contextlib.suppress(DomainError):
                    await self._receive(hold_id, copy.name)
        elif active[1] == HoldStatus.READY and copy.in_transit:
            self.discrepancies.append(f"{copy.name} is in transit for {copy.current_hold}, which is ready here")

    async def _receive(self, hold_id: uuid.UUID, copy: str) -> None:
        """Made READY as ReceiveHoldCopy would, or passed over when its patron may not borrow now."""
        async with self.uow.reading():
            hold = await self.uow.holds.get(hold_id)
            desk = _desk_that_shelved(hold, self.uow.branches)
        if await may_not_borrow(hold.patron, uow=self.uow, now=self.clock.now()):
            on_its_hold_shelf = hold.pickup_branch  # the catalog shelved it there: passed on from there
            await pass_over(
                hold,
                copy,
                uow=self.uow,
                clock=self.clock,
                catalog=self.catalog,
                zone=self.zone,
                at_branch=on_its_hold_shelf,
            )
            return
        await record_received(hold_id, copy, branch=desk, uow=self.uow, clock=self.clock, zone=self.zone)


def _desk_that_shelved(hold: Hold, branches: LibraryBranches) -> str:
    """The branch of the desk whose receipt the catalog recorded (finding C5). The catalog keeps no receiving desk,
    but its copy goes on the hold shelf only when a desk of the hold's pickup branch receives it (receiving.py,
    `at_pickup_branch`): that branch. A hold with no pickup branch, or one at a branch no desk may receive at
    (`receives_for`), is received at any desk: which one is not known (""). Who received it is not known either:
    the repair is the system's, and the catalog's CopyStatusChanged keeps the librarian."""
    pickup = hold.pickup_branch.strip()
    return pickup if pickup and branches.serves(pickup) else ""


def _agrees(copy: CopyInfo, active: tuple[str, HoldStatus] | None) -> bool:
    """The catalog's copy set aside for the hold `active` names (its copy's hold and status here) as loans has it:
    in transit for an IN_TRANSIT hold, on the hold shelf for a READY one."""
    if active is None or active[0] != copy.current_hold:
        return False
    return copy.in_transit == (active[1] == HoldStatus.IN_TRANSIT)


def _where(copy: CopyInfo) -> str:
    return "in transit" if copy.in_transit else "on the hold shelf"


async def _check_back_in(copy: str, loan: str, catalog: Catalog) -> None:
    """Repair a copy out on a loan that is not active here (best effort; the next pass tries again)."""
    with contextlib.suppress(DomainError):
        await catalog.check_in(copy=copy, loan=loan, hold="")
