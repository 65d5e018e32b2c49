"""What a hold records as it moves (holds.py): each becomes a loans event on JetStream (api/events.py), the audit
trail's record of the step, and some a notice to the reader (HoldReady, HoldExpired, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.support.runtime.events import DomainEvent

if TYPE_CHECKING:
    from services.loans.domain.hold_record import HoldStatus
    from services.loans.domain.holds import Hold


@dataclass(frozen=True, kw_only=True)
class HoldPlaced(DomainEvent):
    hold: Hold


@dataclass(frozen=True, kw_only=True)
class HoldInTransit(DomainEvent):
    hold: Hold
    from_branch: str
    """Where the copy leaves from: its own branch's open shelf (to pull), or the desk that sent it ("" unknown)."""
    to_branch: str
    """The hold's pickup branch ("" any: the desk that receives it)."""


@dataclass(frozen=True, kw_only=True)
class HoldReady(DomainEvent):
    hold: Hold


@dataclass(frozen=True, kw_only=True)
class HoldCopyReceived(DomainEvent):
    hold: Hold
    branch: str
    """The desk's branch that received the copy onto its hold shelf ("" not said)."""


@dataclass(frozen=True, kw_only=True)
class HoldCopyMissing(DomainEvent):
    hold: Hold
    copy: str
    """The copy staff could not find (the catalog has it LOST), or took out of circulation."""
    reported_by: str
    copy_status: str = "LOST"
    """What the catalog made of it: LOST, DAMAGED or WITHDRAWN."""
    previous_status: HoldStatus | None = None
    """READY (its reader was told the copy waits for them) or IN_TRANSIT: the reader is told it waits again."""


@dataclass(frozen=True, kw_only=True)
class HoldPassedOver(DomainEvent):
    """An IN_TRANSIT hold whose patron may not borrow now waits again; its copy went on to the queue."""

    hold: Hold
    copy: str
    previous_status: HoldStatus


@dataclass(frozen=True, kw_only=True)
class HoldPickupBranchChanged(DomainEvent):
    """A WAITING hold is to be picked up at another branch (UpdateHold); it keeps its place in the queue."""

    hold: Hold
    previous_pickup_branch: str
    changed_by: str
    """"users/{user}" who changed it: its reader or staff ("" the system)."""


@dataclass(frozen=True, kw_only=True)
class HoldFulfilled(DomainEvent):
    hold: Hold


@dataclass(frozen=True, kw_only=True)
class HoldCancelled(DomainEvent):
    hold: Hold
    previous_status: HoldStatus
    """What it was before: a READY or IN_TRANSIT hold's reader may have been told a copy is set aside for them."""
    by_patron: bool = False
    """The patron cancelled it themselves (they need no word of it), not staff or the system."""


@dataclass(frozen=True, kw_only=True)
class HoldExpired(DomainEvent):
    hold: Hold
    next_reader_waiting: bool = False
    """Another patron waited for the book: the copy goes to the queue, not back on the shelf."""
