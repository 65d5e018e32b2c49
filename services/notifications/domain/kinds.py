"""What a notification can be about (its kind), the channels it goes out on, and what each kind offers its
templates. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.support.runtime.errors import InvalidArgument


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Kind(StrEnum):
    """The keys of NotificationPreferences.kinds in the users API, and the first part of template ids."""

    LOAN_ISSUED = "loan_issued"
    LOAN_RETURNED = "loan_returned"
    LOAN_RENEWED = "loan_renewed"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    HOLD_READY = "hold_ready"
    HOLD_EXPIRING = "hold_expiring"
    HOLD_EXPIRED = "hold_expired"
    HOLD_CANCELLED = "hold_cancelled"
    HOLD_REQUEUED = "hold_requeued"
    HOLD_PICKUP_CHANGED = "hold_pickup_changed"
    FINE_ASSESSED = "fine_assessed"
    WELCOME = "welcome"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    SESSION_REVOKED = "session_revoked"
    EMAIL_CHANGED = "email_changed"
    PHONE_CHANGED = "phone_changed"
    MESSAGE = "message"
    NEW_BOOK_BY_AUTHOR = "new_book_by_author"


COMMON_PARAMS = ("display_name", "library_name")
"""Every kind offers these."""
_LOAN = ("book_title", "due_date", "barcode", "branch")
_HOLD = ("book_title", "branch", "pickup_deadline")
BATCH_PARAMS = ("book_count", "book_count_words", "book_titles", "book_list")
"""What a batched kind's message of several notices adds (domain/batches.py); "" in a notice of one book."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    params: tuple[str, ...]
    """Variables its templates may use, beside COMMON_PARAMS."""
    wanted_by_default: bool = True
    """False for receipts: sent only to a patron who chose the kind in their preferences."""
    security: bool = False
    """Always sent by email (when there is an address), whatever the preferences say."""
    to_former_address: bool = False
    """Tells of a change of the account's address: it goes to the address the account had before (queued with
    it, by the account as it was), and delivery keeps that address rather than follow the account's."""
    by_staff: bool = False
    """Staff may send it, with words of their own. The other kinds tell of what happened (a loan, a password
    change): only the system sends them, else staff could send a fake security notice, past an opt-out."""
    secret: tuple[str, ...] = ()
    """Parameters only the recipient may read (a reset token): the API and the events show the notification
    with their values withheld (`withheld`); only the message itself carries them."""

    urgent: bool = False
    """A deadline runs (a hold to collect, a loan overdue): its SMS is never held back by the hourly SMS limit
    (security kinds neither), which only spaces out routine ones."""
    announcement: bool = False
    """News the reader asked for (a book by an author they follow), not about their account: a blocked or
    closed account is not sent it at all."""
    batched: bool = False
    """Notices of it for one reader on one channel, made within the batch window, go out as one message
    listing the books (finding N5: renewing 20 books sent 20 letters and 20 SMS)."""
    channels: tuple[Channel, ...] = tuple(Channel)
    """The channels it may go out on. A reset link goes by email only: the account signs in with that address,
    while nobody verifies a phone number (a mistyped or recycled one would receive the link)."""

    @property
    def sms_unlimited(self) -> bool:
        """Its SMS goes out whatever the hourly SMS limit says."""
        return self.urgent or self.security

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(COMMON_PARAMS + self.params + (BATCH_PARAMS if self.batched else ()))


KINDS: dict[Kind, KindSpec] = {
    Kind.LOAN_ISSUED: KindSpec(_LOAN, wanted_by_default=False, batched=True),
    Kind.LOAN_RETURNED: KindSpec(("book_title", "barcode", "overdue_days", "fine_amount"), wanted_by_default=False),
    Kind.LOAN_RENEWED: KindSpec((*_LOAN, "previous_due_date"), batched=True),
    Kind.DUE_SOON: KindSpec((*_LOAN, "days_left", "can_renew"), batched=True),
    Kind.OVERDUE: KindSpec((*_LOAN, "overdue_days", "notice_number"), urgent=True, batched=True),
    # Not batched: each hold has its own branch and pickup deadline, holds come in one by one as copies are
    # checked in, and a notice that a deadline runs should not wait for a window that rarely gathers anything.
    Kind.HOLD_READY: KindSpec(_HOLD, urgent=True),
    Kind.HOLD_EXPIRING: KindSpec(_HOLD, urgent=True),
    Kind.HOLD_EXPIRED: KindSpec(("book_title", "branch", "passed_on")),
    Kind.HOLD_CANCELLED: KindSpec(("book_title", "branch", "reason")),
    # `why`: "missing", "damaged", "withdrawn" (the copy), "may_not_borrow" (the account); `was_ready`: "yes" when
    # the reader had been told the copy waits on the hold shelf. Urgent: they may be on their way to the desk.
    Kind.HOLD_REQUEUED: KindSpec(("book_title", "branch", "why", "was_ready"), urgent=True),
    # Staff moved a waiting hold to another pickup branch (`previous_branch`: "" none was named). Not urgent: no copy
    # waits yet; the reader who changed it themselves is not told.
    Kind.HOLD_PICKUP_CHANGED: KindSpec(("book_title", "branch", "previous_branch")),
    Kind.FINE_ASSESSED: KindSpec(("amount", "currency", "description", "book_title")),
    Kind.WELCOME: KindSpec(("card_number",)),
    Kind.PASSWORD_CHANGED: KindSpec(("changed_at",), security=True),
    Kind.PASSWORD_RESET: KindSpec(
        ("web_url", "reset_token", "expires_at"), security=True, secret=("reset_token",), channels=(Channel.EMAIL,)
    ),
    Kind.SESSION_REVOKED: KindSpec(("revoked_at",), security=True),
    Kind.EMAIL_CHANGED: KindSpec(("new_email", "changed_at"), security=True, to_former_address=True),
    Kind.PHONE_CHANGED: KindSpec(("new_phone", "changed_at"), security=True, to_former_address=True),
    Kind.MESSAGE: KindSpec(("subject", "body"), by_staff=True),
    # `book_id` and `web_url` make the link to the book's page (no link when the web URL is not set); a digest
    # of the later books of an hour has `book_count` and `book_titles` ("" in a notice of one book).
    Kind.NEW_BOOK_BY_AUTHOR: KindSpec(
        ("book_title", "authors", "author", "book_id", "web_url", "book_count", "book_titles"), announcement=True
    ),
}


WITHHELD = "[withheld]"


def withheld(kind: Kind, params: Mapping[str, str], *texts: str) -> tuple[dict[str, str], list[str]]:
    """`params` and `texts` with the kind's secret values replaced by WITHHELD: whoever may list a reader's
    notifications (staff, the audit of their delivery) must not read a reset link meant for the reader alone."""
    secrets = [params[name] for name in KINDS[kind].secret if params.get(name)]
    if not secrets:
        return dict(params), list(texts)
    shown = {name: WITHHELD if name in KINDS[kind].secret and value else value for name, value in params.items()}
    hidden = list(texts)
    for secret in secrets:
        hidden = [text.replace(secret, WITHHELD) for text in hidden]
    return shown, hidden


def parse_kind(value: str, *, field: str = "kind") -> Kind:
    try:
        return Kind(value)
    except ValueError:
        known = ", ".join(kind.value for kind in Kind)
        raise InvalidArgument.field(field, f"must be one of {known}") from None
