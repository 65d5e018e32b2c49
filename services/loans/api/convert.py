"""Loans resources: domain <-> proto, and the caller as the actor of a change. Used by the servicer and by the
event encoder."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from athenaeum.loans.v1 import resources_pb2
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.calendar import ClosedDays
from services.loans.domain.fines import Fine, FineKind, FineStatus
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.holds import Hold
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.loans.domain.money import ZERO, money, parse_money
from services.loans.domain.patrons import PatronRecord
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.auth import current_identity
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import ME
from services.support.runtime.names import NamePattern
from services.support.runtime.wire import enum_member, timestamp, to_datetime

_LOAN_STATUS = {
    LoanStatus.ACTIVE: resources_pb2.LOAN_STATUS_ACTIVE,
    LoanStatus.RETURNED: resources_pb2.LOAN_STATUS_RETURNED,
    LoanStatus.LOST: resources_pb2.LOAN_STATUS_LOST,
}
_HOLD_STATUS = {status: resources_pb2.HoldStatus.Value(f"HOLD_STATUS_{status.value}") for status in HoldStatus}
_FINE_STATUS = {status: resources_pb2.FineStatus.Value(f"FINE_STATUS_{status.value}") for status in FineStatus}
_FINE_KIND = {kind: resources_pb2.FineKind.Value(f"FINE_KIND_{kind.value}") for kind in FineKind}
_LOAN_STATUS_OF = {wire: status for status, wire in _LOAN_STATUS.items()}
_HOLD_STATUS_OF = {wire: status for status, wire in _HOLD_STATUS.items()}
_FINE_STATUS_OF = {wire: status for status, wire in _FINE_STATUS.items()}
_FINE_KIND_OF = {wire: kind for kind, wire in _FINE_KIND.items()}


def loan_to_proto(loan: Loan, *, now: datetime, zone: tzinfo, closed: ClosedDays) -> resources_pb2.Loan:
    """The loan as of `now`, its overdue days counted in the library's time zone `zone`, on the days it is not
    `closed` (a returned loan's: as counted at its return)."""
    return resources_pb2.Loan(
        name=loan.name,
        patron=loan.patron,
        book=loan.book,
        copy=loan.copy,
        barcode=loan.barcode,
        book_title=loan.book_title,
        book_language=loan.book_language,
        item_type=loan.item_type,
        status=_LOAN_STATUS.get(loan.status, resources_pb2.LOAN_STATUS_UNSPECIFIED),
        issue_time=timestamp(loan.issued_at),
        due_time=timestamp(loan.due_at),
        return_time=timestamp(loan.returned_at),
        renewal_count=loan.renewal_count,
        max_renewals=loan.max_renewals,
        overdue=loan.is_overdue(now),
        overdue_days=loan.overdue_days(now, zone, closed=closed),
        circulation_rule=loan.rule,
        issued_by=loan.issued_by,
        update_time=timestamp(loan.updated_at),
        etag=loan.etag,
        fine=loan.fine,
        trapped_hold=loan.trapped_hold,
        transit_branch=loan.transit_branch,
        refund_amount=money(loan.refund_due) if loan.refund_due > ZERO else "",
    )


def loan_status(value: int) -> LoanStatus | None:
    """A list filter's status: None for any; INVALID_ARGUMENT for a number the API does not define."""
    return enum_member(value, _LOAN_STATUS_OF, field="status", enum=resources_pb2.LoanStatus.DESCRIPTOR)


def rule_to_proto(rule: CirculationRule) -> resources_pb2.CirculationRule:
    t = rule.terms
    return resources_pb2.CirculationRule(
        name=rule.name,
        patron_category=t.patron_category,
        item_type=t.item_type,
        loan_period_days=t.loan_period_days,
        max_renewals=t.max_renewals,
        renewal_period_days=t.renewal_period_days,
        max_loans=t.max_loans,
        fine_per_day=money(t.fine_per_day),
        grace_days=t.grace_days,
        fine_cap=money(t.fine_cap),
        max_outstanding_fines=money(t.max_outstanding_fines),
        holds_allowed=t.holds_allowed,
        max_holds=t.max_holds,
        hold_pickup_days=t.hold_pickup_days,
        hard_due_time=timestamp(t.hard_due_at),
        create_time=timestamp(rule.created_at),
        update_time=timestamp(rule.updated_at),
        etag=rule.etag,
    )


def terms_from_proto(rule: resources_pb2.CirculationRule) -> RuleTerms:
    field = "circulation_rule."
    return RuleTerms(
        patron_category=rule.patron_category,
        item_type=rule.item_type,
        loan_period_days=rule.loan_period_days,
        max_renewals=rule.max_renewals,
        renewal_period_days=rule.renewal_period_days,
        max_loans=rule.max_loans,
        fine_per_day=parse_money(rule.fine_per_day or "0", field_name=field + "fine_per_day") or ZERO,
        grace_days=rule.grace_days,
        fine_cap=parse_money(rule.fine_cap, field_name=field + "fine_cap", allow_empty=True),
        max_outstanding_fines=parse_money(
            rule.max_outstanding_fines, field_name=field + "max_outstanding_fines", allow_empty=True
        ),
        holds_allowed=rule.holds_allowed,
        max_holds=rule.max_holds,
        hold_pickup_days=rule.hold_pickup_days,
        hard_due_at=to_datetime(rule.hard_due_time) if rule.HasField("hard_due_time") else None,
    )


RULE_MASK_PATHS = {
    **{name: name for name in RuleTerms.__dataclass_fields__ if name != "hard_due_at"},
    "hard_due_time": "hard_due_at",
}
"""A CirculationRule's writable API fields -> the RuleTerms fields they set (timestamps are `*_time` on the
wire, `*_at` in the domain)."""


def rule_mask_from_proto(paths: Iterable[str]) -> tuple[str, ...]:
    """An update_mask's API paths as RuleTerms field names ("*" kept); INVALID_ARGUMENT naming the API fields
    when one is unknown or read-only (name, etag, create_time, update_time)."""
    paths = tuple(paths)
    if paths == ("*",):
        return paths
    if unknown := [path for path in paths if path not in RULE_MASK_PATHS]:
        raise InvalidArgument.field(
            "update_mask",
            f"unknown or read-only field(s): {', '.join(unknown)}; writable: {', '.join(RULE_MASK_PATHS)}",
        )
    return tuple(RULE_MASK_PATHS[path] for path in paths)


def fine_to_proto(fine: Fine) -> resources_pb2.Fine:
    return resources_pb2.Fine(
        name=fine.name,
        patron=fine.patron,
        loan=fine.loan,
        kind=_FINE_KIND[fine.kind],
        amount=money(fine.amount),
        paid_amount=money(fine.paid),
        waived_amount=money(fine.waived),
        refund_amount=money(fine.refund_due),
        outstanding_amount=money(fine.outstanding),
        currency_code=fine.currency,
        status=_FINE_STATUS[fine.status],
        description=fine.description,
        waive_reason=fine.waive_reason,
        book_language=fine.book_language,
        create_time=timestamp(fine.created_at),
        update_time=timestamp(fine.updated_at),
        etag=fine.etag,
    )


def fine_kind(value: int) -> FineKind:
    """A new fine's kind: UNSPECIFIED is OTHER (as the proto says); an undefined number is INVALID_ARGUMENT."""
    kind = enum_member(value, _FINE_KIND_OF, field="fine.kind", enum=resources_pb2.FineKind.DESCRIPTOR)
    return FineKind.OTHER if kind is None else kind


def fine_status(value: int) -> FineStatus | None:
    return enum_member(value, _FINE_STATUS_OF, field="status", enum=resources_pb2.FineStatus.DESCRIPTOR)


def hold_to_proto(hold: Hold, patron: PatronRecord | None = None) -> resources_pb2.Hold:
    """`patron`: the account as loans knows it, for a staff answer only (its name and card shown)."""
    return resources_pb2.Hold(
        name=hold.name,
        patron=hold.patron,
        book=hold.book,
        pickup_branch=hold.pickup_branch,
        status=_HOLD_STATUS[hold.status],
        queue_position=hold.queue_position if hold.status == HoldStatus.WAITING else 0,
        copy=hold.copy if hold.set_aside else "",
        to_pull=hold.to_pull and hold.status == HoldStatus.IN_TRANSIT,
        hold_shelf_branch=hold.hold_shelf_branch if hold.to_pull and hold.status == HoldStatus.IN_TRANSIT else "",
        loan=hold.loan,
        create_time=timestamp(hold.created_at),
        ready_time=timestamp(hold.ready_at),
        expire_time=timestamp(hold.expire_at) if hold.status == HoldStatus.READY else None,
        update_time=timestamp(hold.updated_at),
        cancel_reason=hold.cancel_reason,
        etag=hold.etag,
        book_title=hold.book_title,
        book_language=hold.book_language,
        barcode=hold.barcode if hold.set_aside else "",
        copy_branch=hold.copy_branch if hold.set_aside else "",
        call_number=hold.call_number if hold.set_aside else "",
        shelf_location=hold.shelf_location if hold.set_aside else "",
        patron_display_name=patron.display_name if patron else "",
        patron_card_number=patron.card_number if patron else "",
    )


def hold_status_to_proto(status: HoldStatus) -> resources_pb2.HoldStatus.ValueType:
    return _HOLD_STATUS[status]


def hold_status(value: int) -> HoldStatus | None:
    return enum_member(value, _HOLD_STATUS_OF, field="status", enum=resources_pb2.HoldStatus.DESCRIPTOR)


_HELD_COPY_STATUS_OF = {
    resources_pb2.HELD_COPY_STATUS_LOST: "LOST",
    resources_pb2.HELD_COPY_STATUS_DAMAGED: "DAMAGED",
    resources_pb2.HELD_COPY_STATUS_WITHDRAWN: "WITHDRAWN",
}


def held_copy_status_from_proto(value: int) -> str:
    """ReportHoldCopyMissing's `copy_status`: LOST when not set."""
    found = enum_member(value, _HELD_COPY_STATUS_OF, field="copy_status", enum=resources_pb2.HeldCopyStatus.DESCRIPTOR)
    return found or "LOST"


_USER = NamePattern("users/{user}")
_BOOK = NamePattern("books/{book}")


def list_parent(parent: str) -> str:
    """A list's `parent`: "" (everyone), "users/me", or a user's name with a UUID (canonical). A typo such
    as `users/nope` answered an empty page, as if that patron had no loans."""
    if parent in ("", ME):
        return parent
    return _USER.format(*_USER.parse(parent, field="parent"))


def book_filter(book: str) -> str:
    """A list's `book` filter: "" or a book's name with a UUID (canonical)."""
    return _BOOK.format(*_BOOK.parse(book, field="book")) if book else ""


def current_actor() -> Actor:
    """The signed-in user the edge vouched for; the system when a peer calls on its own behalf."""
    identity = current_identity()
    return Actor(user=identity.subject, role=identity.role) if identity else SYSTEM
