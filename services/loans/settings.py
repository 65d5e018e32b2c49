from decimal import Decimal

from pydantic import Field, field_validator

from services.loans.domain.branches import LibraryBranches
from services.loans.domain.reminders import AT_THE_DUE_TIME, DEFAULT_DAYS
from services.support.runtime.settings import BaseServiceSettings, InTheLibraryZone, OfTheLibraryBranches


class LoansSettings(BaseServiceSettings, InTheLibraryZone, OfTheLibraryBranches):
    """The loans service's settings (ATHENAEUM_* environment variables)."""

    currency_code: str = Field(
        "RUB",
        description="ISO 4217 code of the library's currency (three ASCII letters, e.g. RUB, EUR; upper-cased): "
        "stored on every fine; anything else stops the service at start (the web formats money with it).",
    )
    library_time_zone: str = Field(
        "UTC",
        description="The library's time zone (IANA name of a place, e.g. Europe/Moscow, as a user's time_zone): "
        "a loan or renewal of N days is due at the end (23:59:59) of the Nth day there, overdue days are counted "
        "in its dates, a hold waits until the end of its day, and a rule's hard due date ends with its day.",
    )
    library_branches: str = Field(
        "",
        description="The library's branch codes, separated by commas (e.g. MAIN,EAST; any letter case matches): "
        "a hold's pickup branch (or the patron's home branch it defaults to) and the branch a desk names on a "
        "return or a receipt must be one of them, or the call is refused (INVALID_ARGUMENT). Empty: any code.",
    )
    max_overdue_loans: int = Field(
        0, ge=0, description="A patron with more overdue loans than this may not borrow nor place holds."
    )
    max_outstanding_fines: Decimal | None = Field(
        None,
        ge=0,
        description="Owing more than this blocks borrowing, renewing and holds, when the circulation rule sets no "
        "limit; unset: only the rules' limits.",
    )
    peer_timeout_seconds: float = Field(5.0, description="Deadline of each call to users or catalog.")
    rules_cache_ttl_seconds: float = Field(
        10.0,
        ge=0,
        description="The circulation rules and the closed days are kept per process, dropped on every edit "
        "(its event); this bounds staleness if events are lost. 0 turns the caches off.",
    )
    saga_timeout_seconds: float = Field(
        60.0, description="An issue still PENDING after this long was abandoned; the reconciler settles it."
    )
    patron_projection: bool = Field(
        True,
        description="Answer an issue's eligibility question from the projection of accounts (kept from the users "
        "events) when it is provably current, instead of asking the users service every time; false asks always.",
    )
    reconcile_interval_seconds: float = Field(60.0, description="How often the scheduler reconciles; 0 = never.")
    reminder_schedule_days: tuple[float, ...] = Field(
        DEFAULT_DAYS,
        min_length=1,
        description="When patrons are reminded of a loan, in days from its due time (the end of the due day): "
        "below 0 a LoanDueSoon, above it a LoanOverdue, never 0; each step once per loan and due date, a "
        "LoanDueSoon only before the due time, and no step whose moment had passed when the loan was lent "
        "or renewed.",
    )
    fault_crash_after_checkout: bool = Field(
        False, description="Testing only: die with SIGKILL between the catalog check-out and the loan commit."
    )

    @property
    def branches(self) -> LibraryBranches:
        """The library's branches, with loans' checks (the list was checked when the settings were read)."""
        return LibraryBranches.parse(self.library_branches)

    @field_validator("currency_code")
    @classmethod
    def _an_iso_code(cls, value: str) -> str:
        """Three ASCII letters, as ISO 4217 writes them: a word (roubles abbreviated in Russian) or "RUB " was
        stored on every fine and made the web's currency formatting throw, hiding the reader's fines (M6)."""
        if not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (three letters, e.g. RUB, EUR, USD)")
        return value.upper()

    @field_validator("reminder_schedule_days")
    @classmethod
    def _not_at_the_due_time(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if 0 in value:
            raise ValueError(AT_THE_DUE_TIME)
        return value
