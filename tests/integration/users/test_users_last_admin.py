"""The last active admin stays one, and an operator gets back in with `users restore-admin`: a real users
service (its own database, on its own socket) called as the edge calls it, and the real CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy.ext.asyncio import create_async_engine

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.launcher.components import REPO_ROOT
from services.support.launcher.processes import ProcessSpec, Supervisor
from services.support.launcher.readiness import service_health, wait_until
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.mesh.topology import private_socket_dir
from services.support.runtime.identity import CLAIMS_HEADER
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.outbox import OUTBOX
from services.users.settings import DEV_ADMIN_PASSWORD, UsersSettings

pytestmark = pytest.mark.integration
NEW_PASSWORD = "Restored-Admin-2026"


class UsersService:
    """`python -m services.users.main` on a socket of its own, over a fresh database."""

    def __init__(self, root: Path, database_url: str, nats_url: str) -> None:
        self.socket = private_socket_dir(root / "run") / "users.sock"
        self.env = {
            **os.environ,
            "ATHENAEUM_SOCKET": str(self.socket),
            "ATHENAEUM_DATABASE_URL": database_url,
            "ATHENAEUM_NATS_URL": nats_url,
            "ATHENAEUM_ENVIRONMENT": "test",
            "ATHENAEUM_METRICS_PORT": "0",
            "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
        }
        self.supervisor = Supervisor(root / "logs")

    @property
    def target(self) -> str:
        return f"unix:{self.socket}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "services.users.main"]
        process = self.supervisor.start(ProcessSpec("users-admins", argv, env=self.env, cwd=REPO_ROOT))
        wait_until(lambda: service_health(self.target) == "SERVING", timeout=60, what="users",
                   check_alive=process.check_alive)  # fmt: skip

    def restore_admin(self, email: str, password_file: Path) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "services.users.cli",
            "restore-admin",
            email,
            "--password-file",
            str(password_file),
        ]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def users(launcher_dir: Path, postgres, nats, tmp_path: Path) -> Iterator[UsersService]:
    url = postgres.fresh_database("users_admins")
    upgrade_to_head("users", url)
    service = UsersService(launcher_dir / f"admins-{tmp_path.name[-6:]}", url, nats)
    try:
        service.start()
        yield service
    finally:
        service.supervisor.stop_all()


async def _as_edge(users: UsersService, email: str, password: str) -> tuple[tuple[str, str], ...]:
    """Signs in and returns the metadata the edge (and the users sidecar) would add for that account."""
    async with grpc.aio.insecure_channel(users.target) as channel:
        answer = await users_pb2_grpc.AuthServiceStub(channel).Login(
            users_pb2.LoginRequest(email=email, password=password), timeout=30
        )
    claims = answer.tokens.access_token.split(".")[1]
    return (("x-forwarded-client-cert", f"By={spiffe_id('users')};URI={spiffe_id(EDGE)}"), (CLAIMS_HEADER, claims))


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


async def _call(users: UsersService, method: str, request, metadata) -> grpc.StatusCode | str:
    async with grpc.aio.insecure_channel(users.target) as channel:
        try:
            await getattr(users_pb2_grpc.UsersServiceStub(channel), method)(request, metadata=metadata, timeout=30)
        except grpc.aio.AioRpcError as error:
            return f"{error.code().name} {_reason(error)}"
    return grpc.StatusCode.OK


def _demote(name: str) -> users_pb2.UpdateUserRequest:
    user = users_pb2.User(name=name, role=users_pb2.USER_ROLE_LIBRARIAN)
    return users_pb2.UpdateUserRequest(user=user, update_mask=field_mask_pb2.FieldMask(paths=["role"]))


async def test_the_last_admin_stays_and_an_operator_restores_a_second_one(users: UsersService, tmp_path: Path) -> None:
    bootstrap = UsersSettings().bootstrap_admin_email
    admin = await _as_edge(users, bootstrap, DEV_ADMIN_PASSWORD)
    deactivate = users_pb2.DeleteUserRequest(name="users/me")
    assert await _call(users, "DeleteUser", deactivate, admin) == "FAILED_PRECONDITION LAST_ADMIN"
    me = users_pb2.GetUserRequest(name="users/me")
    async with grpc.aio.insecure_channel(users.target) as channel:
        own = await users_pb2_grpc.UsersServiceStub(channel).GetUser(me, metadata=admin, timeout=30)
    assert await _call(users, "UpdateUser", _demote(own.name), admin) == "FAILED_PRECONDITION LAST_ADMIN"

    password_file = tmp_path / "password"
    password_file.write_text(NEW_PASSWORD + "\n")
    result = await asyncio.to_thread(users.restore_admin, "second-admin@example.org", password_file)
    assert result.returncode == 0, result.stdout + result.stderr
    second = await _as_edge(users, "second-admin@example.org", NEW_PASSWORD)
    assert await _call(users, "UpdateUser", _demote(own.name), second) == grpc.StatusCode.OK


async def test_two_admins_demoting_each_other_at_once_leave_one(users: UsersService, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(NEW_PASSWORD)
    for email in ("a@example.org", "b@example.org"):
        result = await asyncio.to_thread(users.restore_admin, email, password_file)
        assert result.returncode == 0, result.stdout + result.stderr
    bootstrap = await _as_edge(users, UsersSettings().bootstrap_admin_email, DEV_ADMIN_PASSWORD)
    async with grpc.aio.insecure_channel(users.target) as channel:
        me = await users_pb2_grpc.UsersServiceStub(channel).GetUser(
            users_pb2.GetUserRequest(name="users/me"), metadata=bootstrap, timeout=30
        )
    assert await _call(users, "UpdateUser", _demote(me.name), bootstrap) == grpc.StatusCode.OK  # two are left
    a, b = await _as_edge(users, "a@example.org", NEW_PASSWORD), await _as_edge(users, "b@example.org", NEW_PASSWORD)
    names = {}
    for key, metadata in (("a", a), ("b", b)):
        async with grpc.aio.insecure_channel(users.target) as channel:
            names[key] = (await users_pb2_grpc.UsersServiceStub(channel).GetUser(
                users_pb2.GetUserRequest(name="users/me"), metadata=metadata, timeout=30
            )).name  # fmt: skip
    outcomes = await asyncio.gather(
        _call(users, "UpdateUser", _demote(names["b"]), a), _call(users, "UpdateUser", _demote(names["a"]), b)
    )
    assert sorted(map(str, outcomes)) == sorted([str(grpc.StatusCode.OK), "FAILED_PRECONDITION LAST_ADMIN"])


async def test_restore_admin_returns_once_its_sign_outs_are_on_the_bus(users: UsersService, tmp_path: Path) -> None:
    """The other services honour a sign-out once it is on the bus: the command waits for the running service to
    relay it, as the service's own sign-outs do, instead of leaving it to the service's next poll."""
    bootstrap = UsersSettings().bootstrap_admin_email
    await _as_edge(users, bootstrap, DEV_ADMIN_PASSWORD)  # a session the restore ends
    password_file = tmp_path / "password"
    password_file.write_text(NEW_PASSWORD)
    result = await asyncio.to_thread(users.restore_admin, bootstrap, password_file)
    assert result.returncode == 0, result.stdout + result.stderr
    engine = create_async_engine(users.env["ATHENAEUM_DATABASE_URL"])
    try:
        async with engine.connect() as connection:
            unpublished = await connection.scalar(
                sa.select(sa.func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
            )
            revoked = await connection.scalar(
                sa.select(sa.func.count()).select_from(OUTBOX).where(OUTBOX.c.event_type.like("%SessionRevoked"))
            )
    finally:
        await engine.dispose()
    assert revoked and unpublished == 0
