"""The one per-RPC access policy of the mesh, keyed by full gRPC method name.

Every service's authorization interceptor (services.support.runtime.auth) reads this table; a method missing
from it is refused. Rules say who may call at all: a reader "self only" rule compares the request field
naming a user with the caller. Checks that need the stored resource (is this loan the reader's own?)
belong to the owning service's use case, which reads `current_identity()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from services.support.runtime.auth import ADMINS, AUTHENTICATED, MESH_ONLY, PUBLIC, STAFF, Rule, role_in

STAFF_ONLY = role_in(STAFF)
ADMIN_ONLY = role_in(ADMINS)


def _service(full_name: str, rules: Mapping[str, Rule]) -> dict[str, Rule]:
    return {f"/{full_name}/{method}": rule for method, rule in rules.items()}


# Served by every process of the mesh (health probes, grpcurl's reflection): no user data behind them.
_INFRASTRUCTURE = {
    "/grpc.health.v1.Health/Check": PUBLIC,
    "/grpc.health.v1.Health/Watch": PUBLIC,
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": PUBLIC,
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": PUBLIC,
}

_USERS = _service(
    "athenaeum.users.v1.UsersService",
    {
        # Which roles a librarian may create is the use case's rule (only admins create staff).
        "CreateUser": STAFF_ONLY,
        "GetUser": role_in(STAFF, or_self="name"),
        "ListUsers": STAFF_ONLY,
        # Which fields a reader may change in their own account is the use case's rule.
        "UpdateUser": role_in(STAFF, or_self="user.name"),
        "DeleteUser": STAFF_ONLY,
        "GetBorrowingEligibility": MESH_ONLY,
    },
)

_AUTH = _service(
    "athenaeum.users.v1.AuthService",
    {
        "Register": PUBLIC,
        "Login": PUBLIC,
        "RefreshToken": PUBLIC,  # the refresh token is the credential
        "Logout": PUBLIC,
        "GetJwks": PUBLIC,
    },
)

_CATALOG = _service(
    "athenaeum.catalog.v1.CatalogService",
    {
        "CreateBook": STAFF_ONLY,
        "GetBook": PUBLIC,
        "ListBooks": PUBLIC,
        "UpdateBook": STAFF_ONLY,
        "DeleteBook": STAFF_ONLY,
        "SearchBooks": PUBLIC,
        "ImportBooks": STAFF_ONLY,
        "CreateCopy": STAFF_ONLY,
        "GetCopy": PUBLIC,
        "ListCopies": PUBLIC,
        "UpdateCopy": STAFF_ONLY,
        "DeleteCopy": STAFF_ONLY,
        "LookupCopy": STAFF_ONLY,
        "CheckOutCopy": MESH_ONLY,
        "CheckInCopy": MESH_ONLY,
        "ReserveCopy": MESH_ONLY,
        "ReleaseCopy": MESH_ONLY,
    },
)

_LOANS = _service(
    "athenaeum.loans.v1.LoansService",
    {
        "IssueLoan": STAFF_ONLY,
        "GetLoan": AUTHENTICATED,  # a reader's own loan only: checked by loans against the stored patron
        "ListLoans": role_in(STAFF, or_self="parent"),
        "ReturnLoan": STAFF_ONLY,
        "RenewLoan": AUTHENTICATED,  # own loans only, checked by loans
        "CreateCirculationRule": ADMIN_ONLY,
        "GetCirculationRule": AUTHENTICATED,
        "ListCirculationRules": AUTHENTICATED,
        "UpdateCirculationRule": ADMIN_ONLY,
        "DeleteCirculationRule": ADMIN_ONLY,
        "AssessFine": STAFF_ONLY,
        "GetFine": AUTHENTICATED,  # own fines only, checked by loans
        "ListFines": role_in(STAFF, or_self="parent"),
        "PayFine": STAFF_ONLY,
        "WaiveFine": STAFF_ONLY,
        "PlaceHold": role_in(STAFF, or_self="hold.patron"),
        "GetHold": AUTHENTICATED,  # own holds only, checked by loans
        "ListHolds": role_in(STAFF, or_self="parent"),
        "CancelHold": AUTHENTICATED,  # own holds only, checked by loans
        "ReconcileCirculation": ADMIN_ONLY,
    },
)

_NOTIFICATIONS = _service(
    "athenaeum.notifications.v1.NotificationsService",
    {
        "GetNotification": AUTHENTICATED,  # own notifications only, checked by notifications
        "ListNotifications": role_in(STAFF, or_self="parent"),
        "SendNotification": STAFF_ONLY,
        "RetryNotification": STAFF_ONLY,
        "GetNotificationTemplate": STAFF_ONLY,
        "ListNotificationTemplates": STAFF_ONLY,
        "UpdateNotificationTemplate": ADMIN_ONLY,
    },
)

_EVENTS = _service(
    "athenaeum.events.v1.EventsService",
    {
        "RecordEvent": AUTHENTICATED,  # a reader records only their own, non-audit events: checked by events
        "BatchRecordEvents": AUTHENTICATED,
        "GetEvent": STAFF_ONLY,
        "ListEvents": STAFF_ONLY,
        "WatchEvents": STAFF_ONLY,
    },
)

POLICY: Mapping[str, Rule] = MappingProxyType(
    {**_INFRASTRUCTURE, **_USERS, **_AUTH, **_CATALOG, **_LOANS, **_NOTIFICATIONS, **_EVENTS}
)


def public_methods() -> tuple[str, ...]:
    """The RPCs anyone may call without a token (what the edge lets through anonymously)."""
    return tuple(method for method, rule in POLICY.items() if rule.public)
