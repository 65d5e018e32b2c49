"""A restricted account (BLOCKED or EXPIRED, signed in to see why and what it has out) may only read: every
method it may call is bound to GET alone, and it reads only what a reader may (its own records)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from athenaeum.loans.v1 import loans_pb2
from athenaeum.notifications.v1 import notifications_pb2
from athenaeum.users.v1 import users_pb2
from services.support.runtime.access import api_service_names, policy_for
from services.support.runtime.errors import PermissionDenied
from services.support.runtime.identity import (
    ACCESS_TOKEN_AUDIENCE,
    ACCESS_TOKEN_ISSUER,
    EDGE,
    Identity,
    Role,
    authorize,
    decode_claims,
    spiffe_id,
)

POLICY = policy_for(api_service_names())
ME = "users/22222222-2222-2222-2222-222222222222"
LOANS = "/athenaeum.loans.v1.LoansService"
USERS = "/athenaeum.users.v1.UsersService"
NOTIFICATIONS = "/athenaeum.notifications.v1.NotificationsService"


def _blocked(status: str = "blocked") -> Identity:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    return Identity(subject=ME, role=Role.READER, session_id="s1", expires_at=expires, account_status=status)


def _check(method: str, request: object, identity: Identity) -> None:
    authorize(POLICY[method], identity=identity, caller=spiffe_id(EDGE), request=request)


@pytest.mark.parametrize("status", ["blocked", "expired"])
def test_a_restricted_reader_reads_their_own_profile_loans_fines_and_holds(status: str) -> None:
    identity = _blocked(status)
    _check(f"{USERS}/GetUser", users_pb2.GetUserRequest(name="users/me"), identity)
    _check(f"{LOANS}/ListLoans", loans_pb2.ListLoansRequest(parent=ME), identity)
    _check(f"{LOANS}/ListFines", loans_pb2.ListFinesRequest(parent=ME), identity)
    _check(f"{LOANS}/ListHolds", loans_pb2.ListHoldsRequest(parent=ME), identity)
    _check(f"{LOANS}/GetLoan", loans_pb2.GetLoanRequest(name="loans/x"), identity)


@pytest.mark.parametrize(
    ("method", "request_"),
    [
        (f"{LOANS}/RenewLoan", loans_pb2.RenewLoanRequest(name="loans/x")),
        (f"{LOANS}/PlaceHold", loans_pb2.PlaceHoldRequest(hold={"patron": ME})),
        (f"{USERS}/UpdateUser", users_pb2.UpdateUserRequest(user={"name": ME})),
    ],
    ids=lambda value: value.rsplit("/", 1)[-1] if isinstance(value, str) else "",
)
def test_a_restricted_reader_changes_nothing_not_even_their_own(method: str, request_: object) -> None:
    with pytest.raises(PermissionDenied) as refused:
        _check(method, request_, _blocked())
    assert refused.value.reason == "ACCOUNT_RESTRICTED" and refused.value.metadata == {"status": "blocked"}


@pytest.mark.parametrize("status", ["blocked", "expired"])
def test_a_restricted_reader_still_withdraws_what_is_their_own(status: str) -> None:
    """A hold they may not collect would keep its copy from the next reader; a password they fear is known they
    must be able to change; an author they no longer want news of they unfollow."""
    identity = _blocked(status)
    _check(f"{LOANS}/CancelHold", loans_pb2.CancelHoldRequest(name="holds/x"), identity)
    _check(f"{USERS}/ChangePassword", users_pb2.ChangePasswordRequest(name=ME), identity)
    _check(
        f"{NOTIFICATIONS}/UnfollowAuthor",
        notifications_pb2.UnfollowAuthorRequest(name=f"{ME}/followedAuthors/f"),
        identity,
    )


def test_what_a_restricted_account_may_change_is_named_one_by_one() -> None:
    withdraws = sorted(path.rsplit("/", 1)[1] for path, rule in POLICY.items() if rule.withdraws)
    assert withdraws == ["CancelHold", "ChangePassword", "UnfollowAuthor"]


def test_the_same_calls_are_open_to_an_active_reader() -> None:
    active = Identity(
        subject=ME, role=Role.READER, session_id="s1", expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    _check(f"{LOANS}/RenewLoan", loans_pb2.RenewLoanRequest(name="loans/x"), active)
    _check(f"{LOANS}/PlaceHold", loans_pb2.PlaceHoldRequest(hold={"patron": ME}), active)


def test_what_a_restricted_account_may_call_is_only_reads() -> None:
    reads = sorted(path.rsplit("/", 1)[1] for path, rule in POLICY.items() if rule.reads and not rule.public)
    assert all(name.startswith(("Get", "List", "Search", "Lookup", "Aggregate")) for name in reads), reads
    assert {"GetUser", "ListLoans", "ListFines", "ListHolds", "ListNotifications"} <= set(reads)
    assert not {"RenewLoan", "PlaceHold", "CancelHold", "UpdateUser", "ChangePassword", "WatchEvents"} & set(reads)


def _claims(**claims: object) -> str:
    payload = {"iss": ACCESS_TOKEN_ISSUER, "aud": ACCESS_TOKEN_AUDIENCE, "sub": ME, "role": "reader", "sid": "s2",
               "exp": 2_000_000_000, **claims}  # fmt: skip
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_the_status_claim_decodes_and_a_token_without_it_is_an_active_account_s() -> None:
    assert decode_claims(_claims(st="blocked")).restricted
    assert not decode_claims(_claims(st="active")).restricted
    assert not decode_claims(_claims()).restricted  # issued before the claim: only active accounts signed in
