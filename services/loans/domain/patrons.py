"""What the loans service keeps of each account from the users service's events (a projection), and what it
may conclude from it. Pure: no I/O.

A record can only ever let a patron borrow: a refusal must be current and say why in the users service's own
words, so a record that would refuse is not used (the users service is asked instead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.loans.domain.borrowing import Eligibility

ACTIVE = "ACTIVE"
DEACTIVATED = "DEACTIVATED"
DEFAULT_CATEGORY = "ADULT"


@dataclass(frozen=True, slots=True)
class PatronRecord:
    """One account as the newest event about it carried it (`version`: the account's own, bumped by every
    change; events may arrive out of order, so an older version never replaces a newer one)."""

    patron: str
    version: int
    status: str
    patron_category: str = ""
    home_branch: str = ""
    expire_at: datetime | None = None
    display_name: str = ""
    """Shown to staff beside the patron's holds (the hold shelf); never to another reader."""
    card_number: str = ""

    @property
    def closed(self) -> bool:
        """The account was deactivated (the users service's delete): it will not borrow again."""
        return self.status == DEACTIVATED

    def lending_eligibility(self, now: datetime) -> Eligibility | None:
        """The users service's answer as of this record when it lets the patron borrow (an active account
        whose membership has not expired, the rule `GetBorrowingEligibility` applies); None otherwise."""
        if self.status != ACTIVE or (self.expire_at is not None and self.expire_at <= now):
            return None
        return Eligibility(
            patron=self.patron,
            eligible=True,
            patron_category=(self.patron_category or DEFAULT_CATEGORY).upper(),
            home_branch=self.home_branch,
        )
