"""Real Envoys (edge and sidecars) around tiny gRPC apps, on free ports, with certificates in a temp dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.support.launcher.envoy_process import EnvoyProcess, start_envoy
from services.support.mesh import registry
from services.support.mesh.certs import ensure_mesh_certs
from services.support.mesh.envoy import edge_config, render, sidecar_config, write_sds_files
from services.support.mesh.topology import Topology, local_topology, private_socket_dir
from services.support.runtime.probes import LIVENESS_SERVICE

ROOT = Path(__file__).resolve().parents[3]
DESCRIPTOR = ROOT / "gen" / "descriptor" / "athenaeum.binpb"
WHO_AM_I = "WhoAmI"
"""A method every fake app answers on each of its gRPC services with the caller's XFCC header."""
XFCC = "x-forwarded-client-cert"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def mesh_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mesh")


@pytest.fixture(scope="session")
def cert_dir(mesh_dir: Path) -> Path:
    directory = mesh_dir / "certs"
    ensure_mesh_certs(directory, registry.identities())
    return directory


@pytest.fixture(scope="session")
def topology(cert_dir: Path, free_port_source: Iterator[int]) -> Topology:
    """Every listener of the mesh on its own free port (from the session's one port source)."""
    ports = free_port_source
    return local_topology(
        ports=ports,
        socket_dir=private_socket_dir(cert_dir.parent / "run"),
        edge_port=next(ports),
        edge_admin_port=next(ports),
        cert_dir=cert_dir,
        descriptor_path=DESCRIPTOR,
    )


@pytest.fixture(scope="session")
def mesh_envoy(topology: Topology, mesh_dir: Path) -> Iterator[Callable[[str], EnvoyProcess]]:
    """Starts the Envoy of an identity ("edge" or a service's sidecar) once per session; stops them all."""
    running: dict[str, EnvoyProcess] = {}
    write_sds_files(topology.cert_dir)  # the certificates, as every Envoy reads them

    def start(identity: str) -> EnvoyProcess:
        if identity not in running:
            is_edge = identity == registry.EDGE
            config = edge_config(topology) if is_edge else sidecar_config(identity, topology)
            config_file = mesh_dir / f"{identity}.yaml"
            config_file.write_text(render(config))
            admin_port = topology.edge_admin_port if is_edge else topology.placement(identity).admin_port
            running[identity] = start_envoy(config_file, admin_port=admin_port, log_path=mesh_dir / f"{identity}.log")
        return running[identity]

    try:
        yield start
    finally:
        for envoy in running.values():
            envoy.stop()


class _WhoAmI(grpc.GenericRpcHandler):
    """Answers `/<service>/WhoAmI` with the x-forwarded-client-cert header the app received."""

    def __init__(self, grpc_services: tuple[str, ...]) -> None:
        self._paths = {f"/{name}/{WHO_AM_I}" for name in grpc_services}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        if handler_call_details.method not in self._paths:
            return None
        return grpc.unary_unary_rpc_method_handler(self._answer)

    @staticmethod
    async def _answer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        headers = dict(context.invocation_metadata() or ())
        return str(headers.get(XFCC, "")).encode()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fake_app(topology: Topology) -> AsyncIterator[Callable[[str], Awaitable[None]]]:
    """Starts, once per session, a stand-in for a service on its app port: health, reflection, WhoAmI."""
    servers: dict[str, grpc.aio.Server] = {}

    async def start(name: str) -> None:
        if name in servers:
            return
        server = grpc.aio.server()
        health_servicer = health.aio.HealthServicer()
        # Like the real runtime: `liveness` SERVING while the process runs (peers' sidecars check it).
        await health_servicer.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        # Like the real runtime: reflection lists every service of the mesh.
        mesh_names = [name for spec in registry.SERVICES for name in spec.grpc_services]
        reflection.enable_server_reflection(
            [*mesh_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server,
        )
        server.add_generic_rpc_handlers([_WhoAmI(registry.service(name).grpc_services)])
        server.add_insecure_port(f"unix:{topology.placement(name).app_socket}")
        await server.start()
        servers[name] = server

    try:
        yield start
    finally:
        for server in servers.values():
            await server.stop(None)


async def _who_am_i(channel: grpc.aio.Channel, grpc_service: str, *, forged_xfcc: str | None = None) -> str:
    # Raw bytes both ways: WhoAmI has no proto messages.
    call = channel.unary_unary(f"/{grpc_service}/{WHO_AM_I}", request_serializer=bytes, response_deserializer=bytes)
    metadata = None if forged_xfcc is None else ((XFCC, forged_xfcc),)
    return (await call(b"", timeout=5, metadata=metadata)).decode()


@pytest.fixture(scope="session")
def who_am_i() -> Callable[..., Awaitable[str]]:
    """`await who_am_i(channel, grpc_service)`: the XFCC header the app behind `channel` saw for the call."""
    return _who_am_i
