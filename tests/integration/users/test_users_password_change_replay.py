"""ChangePassword's request_id in a real users service, called as the edge calls it: a retry gets the first
call's answer from the request ledger; and when that answer was never stored (the process died between the
commit and storing it), the use case recalls the committed change rather than checking the "current" password
again, which the change made wrong."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from test_users_last_admin import UsersService
from test_users_sign_out_takes_effect import _answer, _edge_metadata

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.runtime.migrations import upgrade_to_head

pytestmark = pytest.mark.integration
OLD, NEW = "Correct-Horse-42", "Amber-Lantern-58"


@pytest.fixture
def users(launcher_dir: Path, postgres, nats, tmp_path: Path) -> Iterator[tuple[UsersService, str]]:
    url = postgres.fresh_database("users_password_replay")
    upgrade_to_head("users", url)
    service = UsersService(launcher_dir / f"password-replay-{tmp_path.name[-6:]}", url, nats)
    try:
        service.start()
        yield service, url
    finally:
        service.supervisor.stop_all()


async def _reader(users: UsersService) -> tuple[str, tuple[tuple[str, str], ...]]:
    async with grpc.aio.insecure_channel(users.target) as channel:
        request = users_pb2.RegisterRequest(email=f"{uuid.uuid4().hex[:10]}@example.org", password=OLD)
        registered = await users_pb2_grpc.AuthServiceStub(channel).Register(request, timeout=30)
    return registered.user.name, _edge_metadata(registered.tokens.access_token)


async def _change(users: UsersService, request: users_pb2.ChangePasswordRequest, metadata) -> str:  # type: ignore[no-untyped-def]
    async with grpc.aio.insecure_channel(users.target) as channel:
        try:
            await users_pb2_grpc.UsersServiceStub(channel).ChangePassword(request, metadata=metadata, timeout=30)
        except grpc.aio.AioRpcError as error:
            return _answer(error)
    return "OK"


async def _forget_the_answer(url: str, request_id: str) -> None:
    """As if the process died after the commit, before the answer was stored and its lease ran out."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            forgotten = await connection.execute(
                sa.text(
                    "UPDATE idempotent_requests SET answer = NULL, lease_until = now() - interval '1 second' "
                    "WHERE request_id = :rid AND operation = 'ChangePassword' AND state = 'COMMITTED'"
                ),
                {"rid": uuid.UUID(request_id)},
            )
            assert forgotten.rowcount == 1
    finally:
        await engine.dispose()


async def test_a_password_change_sent_again_with_its_request_id_answers_as_the_first_did(users) -> None:
    service, url = users
    name, metadata = await _reader(service)
    request_id = str(uuid.uuid4())
    request = users_pb2.ChangePasswordRequest(name=name, current_password=OLD, new_password=NEW, request_id=request_id)
    assert await _change(service, request, metadata) == "OK"
    assert await _change(service, request, metadata) == "OK"  # from the ledger

    await _forget_the_answer(url, request_id)
    assert await _change(service, request, metadata) == "OK"  # recalled by the use case
    assert await _change(service, request, metadata) == "OK"  # and stored again

    another = users_pb2.ChangePasswordRequest(name=name, current_password=OLD, new_password=NEW)
    another.request_id = str(uuid.uuid4())
    assert await _change(service, another, metadata) == "PERMISSION_DENIED WRONG_PASSWORD"  # a new change
    async with grpc.aio.insecure_channel(service.target) as channel:
        login = users_pb2.LoginRequest(email="", password=NEW)
        me = await users_pb2_grpc.UsersServiceStub(channel).GetUser(
            users_pb2.GetUserRequest(name="users/me"), metadata=metadata, timeout=30
        )
        login.email = me.email
        signed_in = await users_pb2_grpc.AuthServiceStub(channel).Login(login, timeout=30)
    assert signed_in.user.name == name  # the new password is the one the first call set
