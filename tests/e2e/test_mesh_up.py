"""The session mesh is whole and healthy, and a service killed with SIGKILL can be brought back."""

from __future__ import annotations

import signal

import grpc
import httpx
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.support.launcher.readiness import envoy_is_live, service_health
from services.support.mesh import registry

pytestmark = pytest.mark.e2e


def test_every_service_is_serving_and_every_envoy_is_live(mesh) -> None:
    assert {name: service_health(mesh.app_target(name)) for name in mesh.services} == {
        spec.name: "SERVING" for spec in registry.SERVICES
    }
    admin_ports = [mesh.topology.edge_admin_port, *(mesh.topology.placement(n).admin_port for n in mesh.services)]
    assert all(envoy_is_live(port) for port in admin_ports)


def test_every_process_of_the_mesh_is_running(mesh) -> None:
    expected = {"edge", *mesh.services, *(f"{name}-sidecar" for name in mesh.services)}
    assert {process.name for process in mesh.processes if process.running} == expected


def test_the_edge_answers_rest_and_grpc_on_one_port(mesh) -> None:
    response = httpx.get(f"{mesh.edge_url}/v1/books", params={"page_size": 1}, timeout=10)
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        books = catalog_pb2_grpc.CatalogServiceStub(channel).ListBooks(
            catalog_pb2.ListBooksRequest(page_size=1), timeout=10
        )

    assert response.status_code == 200 and "books" in response.json()
    assert isinstance(books, catalog_pb2.ListBooksResponse)


def test_a_service_killed_with_sigkill_serves_again_through_the_edge_once_restarted(mesh) -> None:
    catalog = mesh.process("catalog")
    first_pid = catalog.pid

    catalog.kill()
    assert catalog.poll() == -signal.SIGKILL
    unavailable = httpx.get(f"{mesh.edge_url}/v1/books", timeout=10)
    catalog.start()
    mesh.wait_ready("catalog")
    response = httpx.get(f"{mesh.edge_url}/v1/books", timeout=10)

    assert unavailable.status_code == 503
    assert catalog.pid != first_pid
    assert response.status_code == 200
