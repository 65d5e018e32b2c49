"""What a copy records as it changes (copies.py): each becomes a catalog event on JetStream (api/events.py), the
audit trail's record of the change, and a status change also moves its book's availability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.support.runtime.events import DomainEvent

if TYPE_CHECKING:
    from services.catalog.domain.copies import Copy
    from services.catalog.domain.copy_values import CopyDetails, CopyStatus


@dataclass(frozen=True, kw_only=True)
class CopyCreated(DomainEvent):
    copy: Copy


@dataclass(frozen=True, kw_only=True)
class CopyUpdated(DomainEvent):
    copy: Copy
    changed: tuple[str, ...]
    previous: CopyDetails | None = None
    """The details before the change: the audit trail says what the changed fields were."""


@dataclass(frozen=True, kw_only=True)
class CopyDeleted(DomainEvent):
    copy: Copy


@dataclass(frozen=True, kw_only=True)
class CopyStatusChanged(DomainEvent):
    copy: Copy
    previous: CopyStatus
    status: CopyStatus
    loan: str = ""
    hold: str = ""
    note: str = ""
    """Why, when the change says more than its statuses (MISSING_ON_THE_SHELF)."""
    available_copies: int = -1
    """The book's AVAILABLE copies after the change; filled in by `Copy.settle_availability`."""
