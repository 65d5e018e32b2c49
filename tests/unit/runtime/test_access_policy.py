"""The mesh's access policy: every RPC declares its rule in the protos, and the decisions follow it."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.events.v1 import events_pb2
from athenaeum.loans.v1 import loans_pb2
from athenaeum.users.v1 import users_pb2
from services.support.mesh.registry import SERVICES
from services.support.runtime.access import api_service_names, policy_for
from services.support.runtime.auth import AccessPolicy, RevocationList, ensure_still_signed_in
from services.support.runtime.callers import caller_from_metadata
from services.support.runtime.errors import PermissionDenied, Unauthenticated
from services.support.runtime.identity import (
    ACCESS_TOKEN_AUDIENCE,
    ACCESS_TOKEN_ISSUER,
    EDGE,
    Identity,
    Role,
    authorize,
    decode_claims,
    field_value,
    spiffe_id,
)

DESCRIPTOR = Path(__file__).resolve().parents[3] / "gen" / "descriptor" / "athenaeum.binpb"
EDGE_CALLER = spiffe_id(EDGE)
LOANS_CALLER = spiffe_id("loans")
ME = "users/11111111-1111-1111-1111-111111111111"
POLICY = policy_for(api_service_names())


def _rpcs() -> dict[str, descriptor_pb2.MethodDescriptorProto]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    return {
        f"/{file.package}.{service.name}/{method.name}": method
        for file in files.file
        if file.package.startswith("athenaeum.")
        for service in file.service
        for method in service.method
    }


def _identity(role: Role, subject: str = ME) -> Identity:
    return Identity(subject=subject, role=role, session_id="s1", expires_at=datetime.now(UTC) + timedelta(minutes=5))


def _check(method: str, request: object, *, identity: Identity | None, caller: str = EDGE_CALLER) -> None:
    authorize(POLICY[method], identity=identity, caller=caller, request=request)


def test_every_rpc_in_the_descriptor_set_has_a_rule() -> None:
    missing = sorted(set(_rpcs()) - set(POLICY))
    assert not missing, f"declare `option (athenaeum.api.v1.access)` on: {missing}"


def test_the_registry_serves_every_service_of_the_api_and_nothing_else() -> None:
    assert sorted(name for spec in SERVICES for name in spec.grpc_services) == api_service_names()


def test_mesh_internal_methods_are_exactly_those_the_protos_declare_for_the_mesh() -> None:
    internal = {path for spec in SERVICES for path in spec.internal_methods}
    assert internal == {path for path, rule in POLICY.items() if rule.mesh_only}
    assert "/athenaeum.catalog.v1.CatalogService/CheckOutCopy" in internal
    assert "/athenaeum.users.v1.UsersService/GetBorrowingEligibility" in internal


def test_every_self_field_exists_on_its_request_and_is_not_on_a_client_stream() -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    for path, method in _rpcs().items():
        rule = POLICY[path]
        if not rule.self_field:
            continue
        assert not method.client_streaming, path
        request = message_factory.GetMessageClass(pool.FindMessageTypeByName(method.input_type.lstrip(".")))()
        assert field_value(request, rule.self_field) == "", path


def test_the_anonymous_surface_is_sign_up_sign_in_password_reset_keys_and_catalog_reads() -> None:
    public = {path.rsplit("/", 1)[1] for path, rule in POLICY.items() if rule.public and path.startswith("/athenaeum.")}
    assert public == {
        "Register", "Login", "RefreshToken", "Logout", "RequestPasswordReset", "ResetPassword", "GetJwks",
        "GetBook", "ListBooks", "SearchBooks", "GetCopy", "ListCopies", "GetItemType", "ListItemTypes",
    }  # fmt: skip


def test_anyone_may_call_a_public_rpc() -> None:
    _check("/athenaeum.catalog.v1.CatalogService/GetBook", catalog_pb2.GetBookRequest(), identity=None)


def test_a_protected_rpc_without_a_token_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        _check("/athenaeum.users.v1.UsersService/GetUser", users_pb2.GetUserRequest(name=ME), identity=None)


def test_a_reader_calling_a_librarian_rpc_is_denied() -> None:
    with pytest.raises(PermissionDenied):
        _check(
            "/athenaeum.catalog.v1.CatalogService/CreateBook",
            catalog_pb2.CreateBookRequest(),
            identity=_identity(Role.READER),
        )
    _check(
        "/athenaeum.catalog.v1.CatalogService/CreateBook",
        catalog_pb2.CreateBookRequest(),
        identity=_identity(Role.LIBRARIAN),
    )


@pytest.mark.parametrize("name", [ME, "users/me"])
def test_a_reader_may_read_themself(name: str) -> None:
    _check(
        "/athenaeum.users.v1.UsersService/GetUser", users_pb2.GetUserRequest(name=name), identity=_identity(Role.READER)
    )


def test_a_reader_may_not_read_someone_else_nor_list_others_loans() -> None:
    other = "users/22222222-2222-2222-2222-222222222222"
    reader = _identity(Role.READER)
    with pytest.raises(PermissionDenied):
        _check("/athenaeum.users.v1.UsersService/GetUser", users_pb2.GetUserRequest(name=other), identity=reader)
    with pytest.raises(PermissionDenied):
        _check("/athenaeum.loans.v1.LoansService/ListLoans", loans_pb2.ListLoansRequest(parent=other), identity=reader)
    with pytest.raises(PermissionDenied):  # all loans: staff only
        _check("/athenaeum.loans.v1.LoansService/ListLoans", loans_pb2.ListLoansRequest(), identity=reader)
    _check("/athenaeum.loans.v1.LoansService/ListLoans", loans_pb2.ListLoansRequest(parent=ME), identity=reader)
    _check(
        "/athenaeum.loans.v1.LoansService/ListLoans", loans_pb2.ListLoansRequest(), identity=_identity(Role.LIBRARIAN)
    )


def test_only_admins_manage_circulation_rules() -> None:
    method = "/athenaeum.loans.v1.LoansService/CreateCirculationRule"
    with pytest.raises(PermissionDenied):
        _check(method, loans_pb2.CreateCirculationRuleRequest(), identity=_identity(Role.LIBRARIAN))
    _check(method, loans_pb2.CreateCirculationRuleRequest(), identity=_identity(Role.ADMIN))


def test_mesh_internal_rpcs_refuse_the_edge_even_for_admins() -> None:
    method = "/athenaeum.users.v1.UsersService/GetBorrowingEligibility"
    request = users_pb2.GetBorrowingEligibilityRequest(name=ME)
    with pytest.raises(PermissionDenied):
        _check(method, request, identity=_identity(Role.ADMIN))
    _check(method, request, identity=None, caller=LOANS_CALLER)


def test_a_peer_service_calling_on_its_own_behalf_gets_only_what_the_rule_opens_to_peers() -> None:
    with pytest.raises(PermissionDenied):
        _check("/athenaeum.users.v1.UsersService/ListUsers", users_pb2.ListUsersRequest(), identity=None,
               caller=LOANS_CALLER)  # fmt: skip
    with pytest.raises(PermissionDenied):
        _check("/athenaeum.users.v1.UsersService/DeleteUser", users_pb2.DeleteUserRequest(name=ME), identity=None,
               caller=LOANS_CALLER)  # fmt: skip
    _check("/athenaeum.catalog.v1.CatalogService/LookupCopy", catalog_pb2.LookupCopyRequest(), identity=None,
           caller=LOANS_CALLER)  # fmt: skip
    _check("/athenaeum.catalog.v1.CatalogService/GetBook", catalog_pb2.GetBookRequest(), identity=None,
           caller=LOANS_CALLER)  # fmt: skip


def test_the_methods_open_to_peers_are_the_ones_a_peer_calls() -> None:
    peers = {path.rsplit("/", 1)[1] for path, rule in POLICY.items() if rule.peers}
    # loans lends by barcode; a service records its own events; notifications asks for an account its projection
    # lacks; users asks for a patron's loans and fines before it closes the account; every other peer call is
    # AUDIENCE_MESH or public
    assert peers == {
        "LookupCopy", "RecordEvent", "BatchRecordEvents", "StreamRecordEvents", "GetUser", "ListLoans", "ListFines"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("header", "caller"),
    [
        (f"By={spiffe_id('users')};URI={spiffe_id('loans')}", spiffe_id("loans")),
        (f'By={spiffe_id("users")};URI="{EDGE_CALLER}"', EDGE_CALLER),
        ("URI=spiffe://elsewhere/loans", ""),
        ("URI=spiffe://athenaeum.evil/edge", ""),
        ("URI=spiffe://athenaeum/", ""),
        ("URI=spiffe://athenaeum/edge/x", ""),
        ("URI=https://athenaeum/edge", ""),
        ("Hash=abc", ""),
    ],
)
def test_only_identities_of_the_mesh_trust_domain_are_callers(header: str, caller: str) -> None:
    assert caller_from_metadata((("x-forwarded-client-cert", header),)) == caller


def _header(**claims: object) -> str:
    payload = {"iss": ACCESS_TOKEN_ISSUER, "aud": ACCESS_TOKEN_AUDIENCE, "sub": ME, "role": "reader", "sid": "s1",
               "exp": 2_000_000_000, **claims}  # fmt: skip
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_forwarded_claims_decode_into_an_identity() -> None:
    identity = decode_claims(_header(cat="CHILD"))
    assert (identity.subject, identity.role, identity.session_id, identity.patron_category) == (
        ME,
        Role.READER,
        "s1",
        "CHILD",
    )
    assert identity.resolve("users/me") == ME


@pytest.mark.parametrize("raw", ["", "%%%", _header(role="superuser"), _header(aud="other"), _header(iss="evil")])
def test_malformed_or_foreign_claims_are_unauthenticated(raw: str) -> None:
    with pytest.raises(Unauthenticated):
        decode_claims(raw)


def test_a_revocation_is_remembered_until_the_sessions_tokens_expire() -> None:
    now = [datetime(2026, 11, 21, tzinfo=UTC)]
    revocations = RevocationList(clock=lambda: now[0])
    revocations.revoke("s1", now[0] + timedelta(minutes=15))
    assert revocations.is_revoked("s1") and not revocations.is_revoked("s2")
    now[0] += timedelta(minutes=16)
    assert not revocations.is_revoked("s1")


def test_a_call_that_lasts_ends_when_its_session_is_signed_out_or_its_token_expires() -> None:
    """A stream is admitted once; it must not outlive the session (a dismissed librarian's live audit tail)."""
    exp = datetime.fromtimestamp(2_000_000_000, UTC)
    revocations = RevocationList(clock=lambda: exp - timedelta(minutes=5))
    policy = AccessPolicy(POLICY, revocations)
    method = "/athenaeum.events.v1.EventsService/WatchEvents"

    async def stream(*, revoke_meanwhile: bool, check_at: datetime) -> None:
        policy.admit(method, policy.rule(method), caller=EDGE_CALLER, raw_claims=_header(role="librarian"),
                     client_address="", request=events_pb2.WatchEventsRequest())  # fmt: skip
        if revoke_meanwhile:
            revocations.revoke("s1", exp)
        ensure_still_signed_in(check_at)

    asyncio.run(stream(revoke_meanwhile=False, check_at=exp - timedelta(minutes=1)))
    with pytest.raises(Unauthenticated, match="expired"):
        asyncio.run(stream(revoke_meanwhile=False, check_at=exp))
    with pytest.raises(Unauthenticated, match="signed out"):
        asyncio.run(stream(revoke_meanwhile=True, check_at=exp - timedelta(minutes=1)))


def test_any_signed_in_user_may_list_the_library_s_branches_and_nobody_anonymous() -> None:
    method, request = (
        "/athenaeum.catalog.v1.CatalogService/ListLibraryBranches",
        catalog_pb2.ListLibraryBranchesRequest(),
    )
    _check(method, request, identity=_identity(Role.READER))  # a reader chooses a pickup branch among them
    with pytest.raises(Unauthenticated):
        _check(method, request, identity=None)
