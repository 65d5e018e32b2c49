"""A loan this service has no record of, on which the catalog has a copy out. The issue saga records its loan
before the catalog lends a copy for it (issuing.py), so such a loan's record was lost here: the loans database
restored from a backup taken before the loan was made. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.loan_record import LOAN, LoanStatus
from services.loans.domain.loans import Loan
from services.support.runtime.events import DomainEvent

UNRECORDED = (
    "the catalog had the copy out on a loan the loans service has no record of (the record lost, e.g. with a "
    "loans database restored from a backup taken before the loan)"
)
"""Why a copy was checked in without a loan record: the audit trail's reason."""


@dataclass(frozen=True, kw_only=True)
class UnrecordedLoanReturned(DomainEvent):
    loan: Loan
    returned_by: str
    reason: str = UNRECORDED


def returned_unrecorded(copy: CopyInfo, *, returned_by: str, now: datetime) -> Loan:
    """The loan the catalog had `copy` out on, returned at `now` by staff member `returned_by`, as far as the
    catalog knows it (its name, the copy, barcode, book, item type and title): its patron, terms and issue time
    are not known. Nothing of it is stored; it records UnrecordedLoanReturned for the audit trail."""
    loan = Loan(
        id=LOAN.parse_id(copy.current_loan),
        patron="",
        status=LoanStatus.RETURNED,
        created_at=copy.changed_at or now,
        updated_at=now,
        book=copy.book,
        barcode=copy.barcode,
        copy=copy.name,
        book_title=copy.book_title,
        book_language=copy.book_language,
        item_type=copy.item_type,
        returned_at=now,
    )
    loan.events.append(UnrecordedLoanReturned(occurred_at=now, loan=loan, returned_by=returned_by))
    return loan


def lent_again_before(copy: CopyInfo, loan: Loan, instant: datetime) -> bool:
    """Whether the catalog had `loan`'s copy out on another loan since before `instant`, the first try of the
    loan's return: then no try of it checked the copy in from `loan` (the copy came back and went out again on
    a day not known here), and `loan` is a record from before a restored backup, to close as stale."""
    out_on_another = copy.status == "ON_LOAN" and copy.current_loan != loan.name
    return out_on_another and copy.changed_at is not None and copy.changed_at < instant
