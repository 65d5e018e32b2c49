"""A sign-out is in effect where it was answered: the users service refuses the session's access token at
once, without waiting for its own revocation to come back from the bus; and while the bus is away (its NATS
frozen) a logout answers what a block answers, UNAVAILABLE "send it again", rather than "signed out" while
every other service keeps accepting the token. A real users service on its own socket, called as the edge
calls it, over a NATS of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from frozen_processes import freeze, thaw
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from test_users_last_admin import UsersService

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.launcher.nats import LocalNats
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.runtime.identity import CLAIMS_HEADER
from services.support.runtime.migrations import upgrade_to_head
from services.users.settings import DEV_ADMIN_PASSWORD, UsersSettings

pytestmark = pytest.mark.integration
PASSWORD = "Correct-Horse-42"
Metadata = tuple[tuple[str, str], ...]


@pytest.fixture
def bus(launcher_dir: Path, infra_supervisor, free_port_source: Iterator[int]) -> Iterator[LocalNats]:
    """A NATS of this test's own: it is frozen mid-test, and the session's must keep running."""
    name = f"nats-users-{time.monotonic_ns()}"
    server = LocalNats(launcher_dir / name, next(free_port_source), infra_supervisor, name=name)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def users(launcher_dir: Path, postgres, bus: LocalNats, tmp_path: Path) -> Iterator[UsersService]:
    url = postgres.fresh_database("users_sign_out")
    upgrade_to_head("users", url)
    service = UsersService(launcher_dir / f"sign-out-{tmp_path.name[-6:]}", url, bus.url)
    service.env["ATHENAEUM_ANNOUNCE_TIMEOUT_SECONDS"] = "1"  # how long a change waits for the bus
    try:
        service.start()
        yield service
    finally:
        service.supervisor.stop_all()


def _edge_metadata(access_token: str) -> Metadata:
    """What the edge (and the users sidecar) add to a call carrying this access token."""
    claims = access_token.split(".")[1]
    return (("x-forwarded-client-cert", f"By={spiffe_id('users')};URI={spiffe_id(EDGE)}"), (CLAIMS_HEADER, claims))


def _answer(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return f"{error.code().name} {info.reason}"
    return error.code().name


async def _call(users: UsersService, service: str, method: str, request, metadata: Metadata = ()) -> str:
    stub = getattr(users_pb2_grpc, f"{service}Stub")
    async with grpc.aio.insecure_channel(users.target) as channel:
        try:
            await getattr(stub(channel), method)(request, metadata=metadata, timeout=30)
        except grpc.aio.AioRpcError as error:
            return _answer(error)
    return "OK"


async def _tokens(users: UsersService, email: str, password: str = "") -> users_pb2.AuthTokens:
    """The admin's tokens (with `password`), or those of a new reader account."""
    async with grpc.aio.insecure_channel(users.target) as channel:
        auth = users_pb2_grpc.AuthServiceStub(channel)
        if password:
            return (await auth.Login(users_pb2.LoginRequest(email=email, password=password), timeout=30)).tokens
        request = users_pb2.RegisterRequest(email=email, password=PASSWORD, display_name="Reader")
        return (await auth.Register(request, timeout=30)).tokens


async def _name(users: UsersService, tokens: users_pb2.AuthTokens) -> str:
    async with grpc.aio.insecure_channel(users.target) as channel:
        me = await users_pb2_grpc.UsersServiceStub(channel).GetUser(
            users_pb2.GetUserRequest(name="users/me"), metadata=_edge_metadata(tokens.access_token), timeout=30
        )
    return me.name


def _me(tokens: users_pb2.AuthTokens) -> tuple[str, str, users_pb2.GetUserRequest, Metadata]:
    return ("UsersService", "GetUser", users_pb2.GetUserRequest(name="users/me"), _edge_metadata(tokens.access_token))


def _logout(tokens: users_pb2.AuthTokens) -> tuple[str, str, users_pb2.LogoutRequest]:
    return ("AuthService", "Logout", users_pb2.LogoutRequest(refresh_token=tokens.refresh_token))


def _refresh(tokens: users_pb2.AuthTokens) -> tuple[str, str, users_pb2.RefreshTokenRequest]:
    return ("AuthService", "RefreshToken", users_pb2.RefreshTokenRequest(refresh_token=tokens.refresh_token))


def _block(name: str) -> tuple[str, str, users_pb2.UpdateUserRequest]:
    user = users_pb2.User(name=name, status=users_pb2.USER_STATUS_BLOCKED)
    mask = field_mask_pb2.FieldMask(paths=["status"])
    return ("UsersService", "UpdateUser", users_pb2.UpdateUserRequest(user=user, update_mask=mask))


async def test_with_the_bus_away_a_logout_answers_as_a_block_does_and_the_users_service_refuses_the_token_at_once(
    users: UsersService, bus: LocalNats, infra_supervisor
) -> None:
    admin = await _tokens(users, UsersSettings().bootstrap_admin_email, DEV_ADMIN_PASSWORD)
    leaving, replayed, blocked = [await _tokens(users, f"{who}@example.org") for who in ("leaving", "replayed", "b")]
    blocked_name = await _name(users, blocked)
    async with grpc.aio.insecure_channel(users.target) as channel:
        renewed = (await users_pb2_grpc.AuthServiceStub(channel).RefreshToken(
            users_pb2.RefreshTokenRequest(refresh_token=replayed.refresh_token), timeout=30
        )).tokens  # fmt: skip
    assert await _call(users, *_me(leaving)) == "OK"

    pid = infra_supervisor.process(bus.name).pid
    freeze(pid)  # connections stay open; nothing reaches JetStream, nothing comes back
    try:
        block = await _call(users, *_block(blocked_name), _edge_metadata(admin.access_token))
        logout = await _call(users, *_logout(leaving))
        assert block == "UNAVAILABLE DEPENDENCY_UNAVAILABLE"
        assert logout == block  # not "signed out" while the other services cannot know it
        assert await _call(users, *_me(leaving)) == "UNAUTHENTICATED SESSION_REVOKED"  # here, at once

        assert await _call(users, *_refresh(replayed)) == "UNAUTHENTICATED REFRESH_TOKEN_REUSED"
        assert await _call(users, *_me(renewed)) == "UNAUTHENTICATED SESSION_REVOKED"  # the thief's token too
    finally:
        thaw(pid)
    assert await _call(users, *_logout(leaving)) == "OK"  # sent again once the bus is back: confirmed
