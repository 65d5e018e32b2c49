"""The value objects of a copy: its descriptive details (barcode, branch, shelf, item type, call number) and the
statuses it may be in, with the sets of them circulation owns.

Their own module because they are what a copy is, apart from how it moves between them (the Copy aggregate and
its transitions, copies.py): books count copies by status, and readers of the data take both without the
aggregate's rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from services.catalog.domain.item_types import spelt_code
from services.support.runtime.errors import InvalidArgument

MAX_BARCODE_LENGTH = 64
DEFAULT_ITEM_TYPE = "BOOK"
"""A new copy's item type when none is given (an import's copies have it)."""


def same_barcode(a: str, b: str) -> bool:
    """Whether two barcodes name one label: letter case is no part of it (a scanner or a typist may give either
    case; the stored barcode keeps the case it was given). Postgres's `lower` is the same fold."""
    return a.lower() == b.lower()


class CopyStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    ON_LOAN = "ON_LOAN"
    ON_HOLD_SHELF = "ON_HOLD_SHELF"
    IN_TRANSIT = "IN_TRANSIT"
    LOST = "LOST"
    DAMAGED = "DAMAGED"
    WITHDRAWN = "WITHDRAWN"


OUT_OF_CIRCULATION = frozenset({CopyStatus.LOST, CopyStatus.DAMAGED, CopyStatus.WITHDRAWN})
"""What staff may make of a copy set aside for a hold through loans (ReportHeldCopyMissing)."""
CIRCULATING = frozenset({CopyStatus.ON_LOAN, CopyStatus.ON_HOLD_SHELF})
"""Statuses only circulation (the loans service) moves a copy into and out of. IN_TRANSIT is also a cataloguer's
(a copy sent between branches by hand); IN_TRANSIT with a `current_hold` (set aside for a hold) is circulation's."""


@dataclass(frozen=True, slots=True)
class CopyDetails:
    """The descriptive fields of a copy."""

    barcode: str
    branch: str = ""
    shelf_location: str = ""
    item_type: str = ""
    call_number: str = ""

    def validated(self) -> CopyDetails:
        barcode = self.barcode.strip()
        if not barcode:
            raise InvalidArgument.field("copy.barcode", "must not be empty")
        if len(barcode) > MAX_BARCODE_LENGTH or re.search(r"\s", barcode):
            raise InvalidArgument.field("copy.barcode", f"must be at most {MAX_BARCODE_LENGTH} characters, no spaces")
        return CopyDetails(
            barcode=barcode,
            branch=self.branch.strip(),
            shelf_location=self.shelf_location.strip(),
            item_type=spelt_code(self.item_type) or DEFAULT_ITEM_TYPE,
            call_number=self.call_number.strip(),
        )
