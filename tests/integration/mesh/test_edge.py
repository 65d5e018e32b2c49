"""The edge serves REST/JSON and native gRPC on one listener and reaches every service over mTLS."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.support.launcher.envoy_process import EnvoyProcess
from services.support.mesh import registry
from services.support.mesh.envoy_connections import FIRST_BYTES_SECONDS
from services.support.mesh.registry import spiffe_id
from services.support.mesh.topology import Topology

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
DESCRIPTOR = ROOT / "gen" / "descriptor" / "athenaeum.binpb"
FORGED_XFCC = f"URI={spiffe_id('loans')}"


@pytest.fixture(scope="module")
async def edge(
    topology: Topology,
    fake_app: Callable[[str], Awaitable[None]],
    mesh_envoy: Callable[[str], EnvoyProcess],
) -> str:
    if not DESCRIPTOR.exists():
        pytest.skip(f"{DESCRIPTOR.relative_to(ROOT)} missing: generate the descriptor set first")
    for spec in registry.SERVICES:
        await fake_app(spec.name)
        mesh_envoy(spec.name)
    mesh_envoy(registry.EDGE)
    return f"127.0.0.1:{topology.edge_port}"


async def grpcurl(*args: str) -> tuple[int, str]:
    """Run grpcurl without blocking the event loop that serves the fake apps; returns (exit code, output)."""
    binary = Path(sys.executable).with_name("grpcurl")
    process = await asyncio.create_subprocess_exec(
        str(binary), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode or 0, output.decode()


async def test_grpcurl_lists_every_service_of_the_mesh_through_the_edge(edge: str) -> None:
    code, output = await grpcurl("-plaintext", edge, "list")
    assert code == 0, output
    expected = {name for spec in registry.SERVICES for name in spec.grpc_services}
    expected |= {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    assert expected <= set(output.split())


async def test_grpc_health_answers_through_the_edge(edge: str) -> None:
    async with grpc.aio.insecure_channel(edge) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("spec", registry.SERVICES, ids=lambda spec: spec.name)
async def test_each_service_is_reached_as_the_edge_whatever_the_client_claims(
    edge: str, spec: registry.ServiceSpec, who_am_i: Callable[..., Awaitable[str]]
) -> None:
    async with grpc.aio.insecure_channel(edge) as channel:
        for grpc_service in spec.grpc_services:
            xfcc = await who_am_i(channel, grpc_service, forged_xfcc=FORGED_XFCC)
            assert xfcc.count("URI=") == 1, xfcc
            assert f"URI={spiffe_id(registry.EDGE)}" in xfcc
            assert f"By={spiffe_id(spec.name)}" in xfcc


async def test_a_rest_call_is_transcoded_and_reaches_the_owning_service(edge: str) -> None:
    # The fake app implements no real method: UNIMPLEMENTED coming back as a JSON Status proves the
    # request was transcoded, routed over mTLS to the service and the answer converted back.
    async with httpx.AsyncClient(base_url=f"http://{edge}", timeout=5, trust_env=False) as client:
        response = await client.get("/v1/books")
    assert response.status_code == 501
    assert response.json()["code"] == grpc.StatusCode.UNIMPLEMENTED.value[0]


async def test_an_unknown_rest_path_is_not_found_at_the_edge(edge: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{edge}", timeout=5, trust_env=False) as client:
        response = await client.get("/v1/no-such-collection")
    assert response.status_code == 404


async def test_an_unknown_query_parameter_is_rejected_at_the_edge(edge: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{edge}", timeout=5, trust_env=False) as client:
        response = await client.get("/v1/books", params={"no_such_field": "1"})
    assert response.status_code == 400


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


async def test_a_connection_that_sends_no_request_is_closed_after_the_first_bytes_deadline(edge: str) -> None:
    """An idle connection held no place for the edge's minute of idle time (H2): a local account opening
    thousands of them took the edge's whole connection cap."""
    host, port = edge.rsplit(":", 1)
    silent = socket.create_connection((host, int(port)), timeout=2)
    with silent:
        started = time.monotonic()
        assert await asyncio.to_thread(_closed_within, silent, FIRST_BYTES_SECONDS + 3)
        assert time.monotonic() - started < FIRST_BYTES_SECONDS + 3
    async with httpx.AsyncClient(base_url=f"http://{edge}", timeout=5, trust_env=False) as client:
        assert (await client.get("/v1/no-such-collection")).status_code == 404  # a talking client is served
