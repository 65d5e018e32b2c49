"""What probes and Prometheus reach in a pod: the sidecar's operations listener (gRPC health of the
loopback-only service, Envoy's readiness and stats, and nothing else of the admin), and the image's
HEALTHCHECK command."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.support.launcher.envoy_process import EnvoyProcess, start_envoy
from services.support.mesh import registry
from services.support.mesh.certs import ensure_mesh_certs
from services.support.mesh.envoy import render, sidecar_config, write_sds_files
from services.support.mesh.topology import Topology, local_topology, private_socket_dir
from services.support.runtime.probes import LIVENESS_SERVICE

pytestmark = pytest.mark.integration
SERVICE = "catalog"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory, free_port_source: Iterator[int]) -> Topology:
    cert_dir = tmp_path_factory.mktemp("probes") / "certs"
    ensure_mesh_certs(cert_dir, registry.identities())
    ports = free_port_source
    base = local_topology(
        ports=ports,
        socket_dir=private_socket_dir(cert_dir.parent / "run"),
        edge_port=next(ports),
        edge_admin_port=next(ports),
        cert_dir=cert_dir,
        descriptor_path=ROOT / "gen/descriptor/athenaeum.binpb",
    )
    placement = dataclasses.replace(base.placement(SERVICE), ops_port=next(ports))
    return dataclasses.replace(base, services={**base.services, SERVICE: placement})


@pytest.fixture(scope="module")
def sidecar(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvoyProcess]:
    config = tmp_path_factory.mktemp("envoy") / f"{SERVICE}.yaml"
    config.write_text(render(sidecar_config(SERVICE, topology)))
    write_sds_files(topology.cert_dir)
    with start_envoy(config, admin_port=topology.placement(SERVICE).admin_port) as envoy:
        yield envoy


@pytest.fixture
async def health_servicer(topology: Topology) -> AsyncIterator[health.aio.HealthServicer]:
    """The service's health, as the runtime publishes it: "" follows dependencies, "liveness" the process."""
    servicer = health.aio.HealthServicer()
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"unix:{topology.placement(SERVICE).app_socket}")
    await server.start()
    await servicer.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    try:
        yield servicer
    finally:
        await server.stop(None)


async def check(target: str, service: str) -> str:
    async with grpc.aio.insecure_channel(target) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


async def test_kubelet_grpc_probes_reach_the_loopback_service_through_the_ops_listener(
    topology: Topology, sidecar: EnvoyProcess, health_servicer: health.aio.HealthServicer
) -> None:
    ops = f"127.0.0.1:{topology.placement(SERVICE).ops_port}"
    await health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)  # Postgres is away
    assert await check(ops, "") == "NOT_SERVING"  # unready: no traffic ...
    assert await check(ops, LIVENESS_SERVICE) == "SERVING"  # ... but not restarted

    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert await check(ops, "") == "SERVING"


async def test_the_ops_listener_serves_stats_and_readiness_but_no_other_admin_endpoint(
    topology: Topology, sidecar: EnvoyProcess
) -> None:
    base = f"http://127.0.0.1:{topology.placement(SERVICE).ops_port}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        stats = await client.get("/stats/prometheus")
        ready = await client.get("/ready")
        refused = [await client.post(path) for path in ("/quitquitquit", "/config_dump", "/logging")]

    assert stats.status_code == 200 and "envoy_cluster_upstream_rq_total" in stats.text
    assert ready.text.strip() == "LIVE"
    assert [response.status_code for response in refused] == [404, 404, 404]
    assert sidecar.process.poll() is None


async def test_the_image_healthcheck_command_exits_0_only_when_serving(
    topology: Topology, health_servicer: health.aio.HealthServicer
) -> None:
    target = f"unix:{topology.placement(SERVICE).app_socket}"

    async def healthcheck(*args: str) -> int:
        command = [sys.executable, "-m", "services.support.mesh.containers", "health", target, *args]
        return (await _run(command)).returncode

    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    serving = await healthcheck()
    await health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    not_serving = await healthcheck()
    alive = await healthcheck("--service", LIVENESS_SERVICE)

    assert (serving, not_serving, alive) == (0, 1, 0)


async def _run(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    import asyncio

    process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    return subprocess.CompletedProcess(command, process.returncode or 0, stdout, stderr)
