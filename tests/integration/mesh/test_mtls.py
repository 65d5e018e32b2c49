"""The catalog sidecar admits only mesh identities that the registry lists as catalog's callers."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.support.launcher.envoy_process import EnvoyProcess
from services.support.mesh import registry
from services.support.mesh.certs import cert_path, ensure_ca, issue_certificate, key_path
from services.support.mesh.registry import spiffe_id
from services.support.mesh.topology import Topology

pytestmark = pytest.mark.integration

TARGET = "catalog"
CATALOG_SERVICE = registry.service(TARGET).grpc_services[0]
ALLOWED = "loans"
NOT_A_CALLER = "events"
assert ALLOWED in registry.service(TARGET).callers and NOT_A_CALLER not in registry.service(TARGET).callers


@pytest.fixture(scope="module")
async def catalog_inbound(
    topology: Topology,
    fake_app: Callable[[str], Awaitable[None]],
    mesh_envoy: Callable[[str], EnvoyProcess],
) -> str:
    await fake_app(TARGET)
    mesh_envoy(TARGET)
    return f"127.0.0.1:{topology.placement(TARGET).inbound_port}"


def mtls_channel(target: str, ca: Path, chain: Path | None, key: Path | None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=chain.read_bytes() if chain else None,
    )
    # Check the sidecar's certificate for the service's DNS SAN, as a peer in the mesh would.
    return grpc.aio.secure_channel(target, credentials, options=[("grpc.ssl_target_name_override", TARGET)])


def identity_channel(target: str, cert_dir: Path, identity: str) -> grpc.aio.Channel:
    return mtls_channel(target, cert_dir / "ca.pem", cert_path(cert_dir, identity), key_path(cert_dir, identity))


def inbound_tls_counter(topology: Topology, stat: str) -> int:
    """A TLS counter of the catalog sidecar's listeners (e.g. fail_verify_error), from its admin."""
    admin = f"http://127.0.0.1:{topology.placement(TARGET).admin_port}/stats?format=json&filter=ssl.{stat}$"
    with urllib.request.urlopen(admin, timeout=5) as response:
        stats = json.load(response)["stats"]
    return sum(int(item["value"]) for item in stats if item["name"].startswith("listener."))


def caller_of(xfcc: str) -> str:
    """The URI of the single element of an x-forwarded-client-cert header (By=...;Hash=...;URI=...)."""
    (element,) = xfcc.split(",")  # one element only: anything the caller sent was replaced
    fields = dict(pair.split("=", 1) for pair in element.split(";"))
    return fields["URI"]


async def health_check(channel: grpc.aio.Channel) -> health_pb2.HealthCheckResponse.ServingStatus:
    async with channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return response.status


async def test_an_allowed_identity_reaches_the_service(catalog_inbound: str, cert_dir: Path) -> None:
    assert (
        await health_check(identity_channel(catalog_inbound, cert_dir, ALLOWED))
        == health_pb2.HealthCheckResponse.SERVING
    )


async def test_a_plaintext_call_is_refused(catalog_inbound: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await health_check(grpc.aio.insecure_channel(catalog_inbound))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_tls_call_without_a_client_certificate_is_refused(
    catalog_inbound: str, cert_dir: Path, topology: Topology
) -> None:
    refused_before = inbound_tls_counter(topology, "fail_verify_no_cert")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await health_check(mtls_channel(catalog_inbound, cert_dir / "ca.pem", None, None))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert inbound_tls_counter(topology, "fail_verify_no_cert") > refused_before


async def test_a_certificate_from_another_ca_is_refused_at_the_handshake(
    catalog_inbound: str, cert_dir: Path, tmp_path: Path, topology: Topology
) -> None:
    refused_before = inbound_tls_counter(topology, "fail_verify_error")
    # Same identity and SPIFFE id as an allowed caller, but not signed by the mesh CA.
    ensure_ca(tmp_path / "wrong-ca")
    chain, key = issue_certificate(tmp_path / "wrong-ca", ALLOWED)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await health_check(mtls_channel(catalog_inbound, cert_dir / "ca.pem", chain, key))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert inbound_tls_counter(topology, "fail_verify_error") > refused_before


@pytest.mark.parametrize("identity", [NOT_A_CALLER, "intruder"])
async def test_a_mesh_identity_that_is_not_a_caller_is_denied(
    catalog_inbound: str, cert_dir: Path, tmp_path: Path, identity: str
) -> None:
    chain, key = issue_certificate(tmp_path, identity, ca_dir=cert_dir)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await health_check(mtls_channel(catalog_inbound, cert_dir / "ca.pem", chain, key))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_service_sees_the_verified_caller_not_a_forged_header(
    catalog_inbound: str, cert_dir: Path, who_am_i: Callable[..., Awaitable[str]]
) -> None:
    async with identity_channel(catalog_inbound, cert_dir, ALLOWED) as channel:
        xfcc = await who_am_i(channel, CATALOG_SERVICE, forged_xfcc=f"URI={spiffe_id(registry.EDGE)}")
    assert caller_of(xfcc) == spiffe_id(ALLOWED)


async def test_a_service_calls_its_upstream_through_its_own_sidecar(
    catalog_inbound: str,
    topology: Topology,
    mesh_envoy: Callable[[str], EnvoyProcess],
    who_am_i: Callable[..., Awaitable[str]],
) -> None:
    mesh_envoy(ALLOWED)
    await _checked_healthy(topology.placement(ALLOWED).admin_port, f"mesh_{TARGET}")
    outbound = f"unix:{topology.placement(ALLOWED).outbound_socket}"
    async with grpc.aio.insecure_channel(outbound) as channel:
        # The app speaks plaintext to loopback; its sidecar adds loans' identity on the way out.
        assert caller_of(await who_am_i(channel, CATALOG_SERVICE)) == spiffe_id(ALLOWED)


async def _checked_healthy(admin_port: int, cluster: str) -> None:
    """Until the sidecar's health check of `cluster` has passed. The stand-in app answers on this test's event
    loop, which was blocked while the sidecar started: its first checks went unanswered."""
    deadline = time.monotonic() + 15
    url = f"http://127.0.0.1:{admin_port}/clusters"
    while f"{cluster}::" not in (text := await asyncio.to_thread(_read, url)) or any(
        line.startswith(f"{cluster}::") and "::health_flags::" in line and not line.endswith("::healthy")
        for line in text.splitlines()
    ):
        assert time.monotonic() < deadline, f"{cluster} never passed its health check"
        await asyncio.sleep(0.1)


def _read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def test_a_sidecar_has_no_route_to_services_it_may_not_call(
    catalog_inbound: str,
    topology: Topology,
    mesh_envoy: Callable[[str], EnvoyProcess],
    who_am_i: Callable[..., Awaitable[str]],
) -> None:
    mesh_envoy(ALLOWED)
    outbound = f"unix:{topology.placement(ALLOWED).outbound_socket}"
    not_an_upstream = registry.service(NOT_A_CALLER).grpc_services[0]
    assert registry.service(NOT_A_CALLER) not in registry.upstreams_of(ALLOWED)
    async with grpc.aio.insecure_channel(outbound) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as no_route:
            await who_am_i(channel, not_an_upstream)
    assert no_route.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def _call_check_out(channel: grpc.aio.Channel) -> grpc.StatusCode:
    path = "/athenaeum.catalog.v1.CatalogService/CheckOutCopy"
    assert path in registry.service(TARGET).internal_methods
    async with channel:
        try:
            await channel.unary_unary(path)(b"", timeout=5)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def test_the_edge_cannot_reach_a_mesh_internal_method(catalog_inbound: str, cert_dir: Path) -> None:
    assert await _call_check_out(identity_channel(catalog_inbound, cert_dir, registry.EDGE)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )


async def test_a_peer_may_reach_a_mesh_internal_method(catalog_inbound: str, cert_dir: Path) -> None:
    # The fake app does not implement it: getting past RBAC is what counts here.
    assert await _call_check_out(identity_channel(catalog_inbound, cert_dir, ALLOWED)) == grpc.StatusCode.UNIMPLEMENTED
