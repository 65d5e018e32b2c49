"""An enum number the API does not define (proto3 enums are open: a client built from a newer proto sends one)
is INVALID_ARGUMENT naming the field, in every service: a list filter never widens to "any", and a new fine is
never filed under OTHER."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from athenaeum.loans.v1 import resources_pb2
from athenaeum.notifications.v1 import notifications_pb2
from athenaeum.users.v1 import users_pb2
from services.loans.api import convert as loans
from services.loans.domain.fines import FineKind
from services.loans.domain.loan_record import LoanStatus
from services.notifications.api import convert as notifications
from services.support.runtime.errors import InvalidArgument
from services.users.api import convert as users

UNDEFINED = 99

CONVERSIONS: dict[str, tuple[Callable[[int], object], str]] = {
    "users role": (lambda n: users.user_filter(users_pb2.ListUsersRequest(role=n)), "role"),  # type: ignore[arg-type]
    "users status": (lambda n: users.user_filter(users_pb2.ListUsersRequest(status=n)), "status"),  # type: ignore[arg-type]
    "notifications channel": (
        lambda n: notifications.notification_filter(notifications_pb2.ListNotificationsRequest(channel=n)),  # type: ignore[arg-type]
        "channel",
    ),
    "notifications status": (
        lambda n: notifications.notification_filter(notifications_pb2.ListNotificationsRequest(status=n)),  # type: ignore[arg-type]
        "status",
    ),
    "loan status": (loans.loan_status, "status"),
    "fine status": (loans.fine_status, "status"),
    "hold status": (loans.hold_status, "status"),
    "fine kind": (loans.fine_kind, "fine.kind"),
}


@pytest.mark.parametrize("case", CONVERSIONS)
def test_an_undefined_enum_number_is_refused_naming_the_field(case: str) -> None:
    convert, field = CONVERSIONS[case]
    with pytest.raises(InvalidArgument) as error:
        convert(UNDEFINED)
    assert [violation.field for violation in error.value.violations] == [field]
    assert "must be " in error.value.violations[0].description


@pytest.mark.parametrize("case", CONVERSIONS)
def test_unspecified_and_defined_numbers_are_taken(case: str) -> None:
    convert, _ = CONVERSIONS[case]
    convert(0)
    convert(1)


def test_a_filter_keeps_unspecified_as_any_and_a_defined_value_as_sent() -> None:
    assert loans.loan_status(0) is None
    assert loans.loan_status(resources_pb2.LOAN_STATUS_RETURNED) == LoanStatus.RETURNED
    assert users.user_filter(users_pb2.ListUsersRequest(role=users_pb2.USER_ROLE_ADMIN)).role is not None
    assert users.user_filter(users_pb2.ListUsersRequest()).role is None


def test_a_fine_of_unspecified_kind_is_other_and_a_named_kind_is_kept() -> None:
    assert loans.fine_kind(resources_pb2.FINE_KIND_UNSPECIFIED) == FineKind.OTHER
    assert loans.fine_kind(resources_pb2.FINE_KIND_LOST_ITEM) == FineKind.LOST_ITEM
