"""Who a service believes is calling, on the real mesh: only its sidecar can reach it, only the edge's
claims count, only identities of the mesh's trust domain are callers, and a peer gets what its rule opens.

`athenaeum up` runs every process on one host, where any local process is a possible attacker: the
services and their sidecars talk over Unix sockets in a folder only the mesh's user may enter.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat

import grpc
import psutil
import pytest

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.launcher import components
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.runtime.identity import CLAIMS_HEADER

pytestmark = pytest.mark.e2e
XFCC = "x-forwarded-client-cert"


def _claims(account) -> str:
    return account.access_token.split(".")[1]


def _listening_tcp(pid: int) -> set[tuple[str, int]]:
    connections = psutil.Process(pid).net_connections(kind="inet")
    return {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}


def test_a_service_listens_on_no_tcp_port_but_its_metrics_on_loopback(mesh) -> None:
    for name in mesh.services:
        placement = mesh.topology.placement(name)
        assert _listening_tcp(mesh.process(name).pid) == {("127.0.0.1", placement.metrics_port)}, name


def test_the_services_sockets_are_in_a_folder_only_the_mesh_user_may_enter(mesh) -> None:
    folders = {mesh.topology.placement(name).app_socket.parent for name in mesh.services}
    (folder,) = folders
    info = folder.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
    for name in mesh.services:
        placement = mesh.topology.placement(name)
        assert stat.S_ISSOCK(placement.app_socket.stat().st_mode), name
        assert stat.S_IMODE(placement.outbound_socket.stat().st_mode) == 0o600, name


def _connects(path: str, *, as_user: str | None = None) -> bool:
    """Whether a process (of `as_user`, else of this user) can connect to the Unix socket at `path`."""
    pid = os.fork()
    if pid == 0:  # the child only switches user, connects and exits: nothing of the parent's runs here
        code = 1
        try:
            if as_user is not None:
                account = pwd.getpwnam(as_user)
                os.setgroups([])
                os.setgid(account.pw_gid)
                os.setuid(account.pw_uid)
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(path)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the probe as another user")
def test_another_local_user_cannot_open_a_service_or_its_way_out(mesh) -> None:
    paths = [str(mesh.topology.placement("users").app_socket), str(mesh.topology.placement("loans").outbound_socket)]
    assert [_connects(path, as_user="nobody") for path in paths] == [False, False]
    assert [_connects(path) for path in paths] == [True, True]  # the probe works: the mesh's user gets in


async def _update_role(target: str, reader, metadata) -> grpc.StatusCode:
    user = users_pb2.User(name=reader.name, role=users_pb2.USER_ROLE_ADMIN)
    request = users_pb2.UpdateUserRequest(user=user, update_mask={"paths": ["role"]})
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            await users_pb2_grpc.UsersServiceStub(channel).UpdateUser(request, metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def _role_of(mesh, account, admin) -> int:
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        user = await users_pb2_grpc.UsersServiceStub(channel).GetUser(
            users_pb2.GetUserRequest(name=account.name), metadata=admin.metadata, timeout=10
        )
    return user.role


async def test_claims_sent_through_a_peers_way_out_are_not_believed(mesh, new_reader, admin) -> None:
    """A caller of the loans sidecar's outbound listener is "loans": it carries no user's claims."""
    reader = new_reader()
    forged = ((CLAIMS_HEADER, _claims(admin)),)
    assert await _update_role(mesh.outbound_target("loans"), reader, forged) == grpc.StatusCode.PERMISSION_DENIED
    assert await _role_of(mesh, reader, admin) == users_pb2.USER_ROLE_READER


async def test_an_identity_outside_the_mesh_trust_domain_is_nobody(mesh, new_reader, admin) -> None:
    reader = new_reader()
    forged = ((XFCC, f"By={spiffe_id('users')};URI=spiffe://elsewhere/{EDGE}"), (CLAIMS_HEADER, _claims(admin)))
    assert await _update_role(mesh.app_target("users"), reader, forged) == grpc.StatusCode.UNAUTHENTICATED
    assert await _role_of(mesh, reader, admin) == users_pb2.USER_ROLE_READER


async def test_a_peer_without_claims_gets_only_what_its_rule_opens_to_peers(mesh) -> None:
    async with grpc.aio.insecure_channel(mesh.outbound_target("loans")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await users_pb2_grpc.UsersServiceStub(channel).ListUsers(users_pb2.ListUsersRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_launcher_gives_each_service_its_socket_and_no_port(mesh) -> None:
    env = components.service_spec("users", mesh.topology, database_url="x", nats_url="y").env or {}
    assert env["ATHENAEUM_SOCKET"] == str(mesh.topology.placement("users").app_socket)
    assert "ATHENAEUM_PORT" not in env and env["ATHENAEUM_METRICS_HOST"] == "127.0.0.1"
