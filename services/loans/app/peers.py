"""The other services the loans use cases call (users, catalog), as Protocols in domain terms.

Their own module because they are a concern apart from the unit of work and its repositories (ports.py): the
data layer implements them over the mesh (data/peers.py, data/projected_users.py), not over Postgres, and a
use case that asks a peer for nothing need not know them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.loans.domain.borrowing import BookTitle, CopyInfo, Eligibility
from services.loans.domain.item_types import ANY_ITEM_TYPE, ItemTypes


class Users(Protocol):
    async def eligibility(self, patron: str) -> Eligibility:
        """NotFound for an unknown patron; DependencyUnavailable when users cannot be reached."""

    async def account(self, patron: str) -> Eligibility:
        """As eligibility, as the users service has the account committed now (never a projection, which may
        not have heard of a close yet): what a charge checks."""


COPY_ON_ANOTHER_LOAN = "COPY_ON_ANOTHER_LOAN"
"""The catalog's reason for refusing to check a copy in for a loan: the copy is out on another loan."""


class Catalog(Protocol):
    """The catalog's copy operations. Every mutation is idempotent per the loan or hold it serves: a repeat
    finds what the first call did (the copy the loan has, where a returned copy went), so the sagas send no
    request_id (the catalog's request ledger would cost two statements a call and add nothing). Every call
    raises DependencyUnavailable when the catalog cannot be reached."""

    async def book_title(self, book: str) -> BookTitle: ...
    async def has_item_type(self, code: str) -> bool:
        """Whether the catalog's list of item types (itemTypes/{code}) has this code (spelt upper case)."""

    async def item_type_codes(self) -> set[str]:
        """The codes of every item type the catalog lists (a call per hundred types)."""

    async def lookup_copy(self, barcode: str) -> CopyInfo: ...
    async def get_copy(self, name: str) -> CopyInfo: ...
    async def copies_of(self, book: str) -> list[CopyInfo]: ...
    async def copies_in_circulation(self) -> list[CopyInfo]:
        """Every copy on loan, on the hold shelf or in transit (for a hold, or sent by a cataloguer)."""

    async def availability(self, books: Sequence[str]) -> dict[str, int]:
        """How many copies of each book are available (what `reserve` may set aside, of some item type), in a
        call per hundred books; a book the catalog does not have is left out."""

    async def check_out(
        self, *, selector: tuple[str, str], loan: str, hold: str, item_types: ItemTypes = ANY_ITEM_TYPE
    ) -> CopyInfo:
        """By book, a copy of one of `item_types` (those the patron may borrow); FailedPrecondition
        (NO_COPY_AVAILABLE) when none is available."""

    async def check_in(
        self, *, copy: str, loan: str, hold: str, lost: bool = False, in_transit: bool = False
    ) -> CopyInfo:
        """Ends `loan` on the copy: AVAILABLE, or on the hold shelf for `hold` (IN_TRANSIT for it with
        `in_transit`: to the hold's pickup branch); LOST with `lost` (it keeps the loan's name, so that this
        check-in of the loan later, the copy found, puts it back)."""

    async def reserve(self, *, book: str, hold: str, branch: str, item_types: ItemTypes = ANY_ITEM_TYPE) -> CopyInfo:
        """A copy of one of `item_types` (those the hold's patron may hold) set aside for the hold: IN_TRANSIT
        for it (to be pulled from the open shelf and brought to the pickup desk)."""

    async def release(self, *, copy: str, hold: str) -> CopyInfo:
        """Off the hold shelf, or out of transit for the hold: AVAILABLE."""

    async def shelve(self, *, copy: str, hold: str) -> CopyInfo:
        """A copy IN_TRANSIT for `hold` onto the hold shelf; FailedPrecondition (COPY_NOT_HELD) when it is not
        set aside for the hold."""

    async def report_missing(self, *, copy: str, hold: str, status: str = "LOST") -> CopyInfo:
        """A copy set aside for `hold` that staff could not find: LOST, no longer held (a copy LOST already is
        answered as is), or taken out of circulation with `status` (DAMAGED, WITHDRAWN); FailedPrecondition
        (COPY_NOT_HELD) when it is not set aside for the hold."""

    async def send_home(self, *, copy: str, from_branch: str) -> CopyInfo:
        """An AVAILABLE copy on the hold shelf of `from_branch`, not its own: IN_TRANSIT home (no hold); one at its
        own branch is answered as is; FailedPrecondition (COPY_NOT_AVAILABLE) when lent or set aside meanwhile."""

    async def receive_home(self, *, copy: str, branch: str, take_in: bool = False) -> CopyInfo:
        """A copy IN_TRANSIT with no hold scanned at a desk of `branch`: AVAILABLE at its own branch (or, `take_in`,
        at any: a hold is to take it there), else as is; FailedPrecondition (COPY_NOT_IN_TRANSIT) when it is not
        moving between branches."""
