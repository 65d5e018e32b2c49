"""Mesh certificates renewed under a running mesh: every Envoy takes the new ones without a restart (SDS
watching the certificates' folder), and calls through the edge and between services keep succeeding."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import grpc
import httpx
import pytest
from cryptography import x509

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.support.launcher import components
from services.support.launcher.readiness import wait_until
from services.support.mesh import registry
from services.support.mesh.certs import cert_path, key_path, rotate_mesh_certs

pytestmark = pytest.mark.e2e


def _serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def _served_serials(admin_port: int) -> set[int]:
    """The serial numbers of the certificates an Envoy presents right now (its admin /certs)."""
    body = httpx.get(f"http://127.0.0.1:{admin_port}/certs", timeout=5).json()
    return {int(cert["serial_number"], 16) for ctx in body["certificates"] for cert in ctx.get("cert_chain", [])}


def _handshake_serial(mesh, service: str, client: str) -> int:
    """The serial of the certificate a sidecar presents to a fresh mTLS connection (as `client`)."""
    certs = mesh.topology.cert_dir
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(cert_path(certs, client), key_path(certs, client))
    context.set_alpn_protocols(["h2"])
    placement = mesh.topology.placement(service)
    raw = socket.create_connection((placement.host, placement.inbound_port), timeout=5)
    with context.wrap_socket(raw) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


class _Traffic(threading.Thread):
    """Calls through the edge (edge → sidecar mTLS) and from loans to catalog (sidecar → sidecar mTLS), without
    pause, until stopped; remembers every failure."""

    def __init__(self, mesh, token: str) -> None:
        super().__init__(daemon=True)
        self.mesh, self.headers = mesh, {"authorization": f"Bearer {token}"}
        self.stop, self.calls, self.failures = threading.Event(), 0, []

    def run(self) -> None:
        with (
            httpx.Client(base_url=self.mesh.edge_url, timeout=10) as edge,
            grpc.insecure_channel(self.mesh.outbound_target("loans")) as outbound,
        ):
            catalog = catalog_pb2_grpc.CatalogServiceStub(outbound)
            while not self.stop.is_set():
                for path in ("/v1/books?page_size=1", "/v1/users/me"):
                    response = edge.get(path, headers=self.headers)
                    if response.status_code != 200:
                        self.failures.append(f"{path}: {response.status_code} {response.text[:200]}")
                try:
                    catalog.ListBooks(catalog_pb2.ListBooksRequest(page_size=1), timeout=10)
                except grpc.RpcError as error:
                    self.failures.append(f"loans → catalog: {error.code().name}")
                self.calls += 3


def test_rotated_mesh_certificates_are_taken_without_a_restart(mesh, reader) -> None:
    cert_dir = mesh.topology.cert_dir
    envoys = [registry.EDGE, *mesh.services]
    before = {name: _serial(cert_path(cert_dir, name)) for name in registry.identities()}
    pids = {process.name: process.pid for process in mesh.processes}
    traffic = _Traffic(mesh, reader.access_token)
    traffic.start()
    try:
        time.sleep(0.5)
        rotate_mesh_certs(cert_dir, registry.identities())
        after = {name: _serial(cert_path(cert_dir, name)) for name in registry.identities()}
        assert all(after[name] != before[name] for name in after)
        for name in envoys:
            port = components.envoy_admin_port(name, mesh.topology)
            wait_until(lambda port=port, name=name: after[name] in _served_serials(port), timeout=30,
                       what=f"{name}'s Envoy to serve its new certificate")  # fmt: skip
        assert _handshake_serial(mesh, "catalog", client="loans") == after["catalog"]
        time.sleep(0.5)  # and a little more traffic on the new certificates
    finally:
        traffic.stop.set()
        traffic.join(timeout=30)
    assert traffic.calls > 0 and not traffic.failures, traffic.failures[:5]
    assert {process.name: process.pid for process in mesh.processes} == pids, "nothing was restarted"
