"""The TLS front of compose's `tls` profile, run in front of the session's edge: HTTPS and gRPC over TLS reach
the mesh through it, in the protocol each came in, and it exports the certificate expiry the alerts watch."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.support.launcher.envoy_process import start_envoy
from services.support.mesh import edge_tls, registry
from services.support.mesh.certs import CA_CERT, cert_path, key_path
from services.support.mesh.envoy import render

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Front:
    port: int
    ops_port: int


@pytest.fixture(scope="module")
def front(mesh, free_port_source: Iterator[int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """The TLS front with the edge's mesh certificate (its SANs include localhost), on free loopback ports."""
    cert_dir: Path = mesh.topology.cert_dir
    port, ops_port, admin_port = next(free_port_source), next(free_port_source), next(free_port_source)
    config = edge_tls.edge_tls_config(
        cert=cert_path(cert_dir, registry.EDGE),
        key=key_path(cert_dir, registry.EDGE),
        edge=("127.0.0.1", mesh.topology.edge_port),
        port=port,
        ops_port=ops_port,
        admin_port=admin_port,
        bind="127.0.0.1",
    )
    path = tmp_path_factory.mktemp("edge-tls") / "edge-tls.yaml"
    path.write_text(render(config))
    with start_envoy(path, admin_port=admin_port, log_path=path.with_suffix(".log")):
        yield Front(port, ops_port)


def test_rest_over_https_reaches_the_edge(mesh, front: Front) -> None:
    trusted = ssl.create_default_context(cafile=str(mesh.topology.cert_dir / CA_CERT))
    response = httpx.get(f"https://localhost:{front.port}/v1/books?page_size=1", verify=trusted, timeout=10)

    assert response.status_code == 200, response.text
    assert response.http_version == "HTTP/1.1" and "books" in response.json()


def test_a_client_request_id_passes_the_front_and_comes_back(mesh, front: Front) -> None:
    trusted = ssl.create_default_context(cafile=str(mesh.topology.cert_dir / CA_CERT))
    url = f"https://localhost:{front.port}/v1/books?page_size=1"
    response = httpx.get(url, headers={"x-request-id": "through-the-front-1"}, verify=trusted, timeout=10)
    assert response.status_code == 200 and response.headers.get("x-request-id") == "through-the-front-1"


def test_grpc_over_tls_reaches_the_edge_as_http2(mesh, front: Front) -> None:
    credentials = grpc.ssl_channel_credentials((mesh.topology.cert_dir / CA_CERT).read_bytes())
    with grpc.secure_channel(f"localhost:{front.port}", credentials) as channel:
        books = catalog_pb2_grpc.CatalogServiceStub(channel).ListBooks(
            catalog_pb2.ListBooksRequest(page_size=1), timeout=10
        )

    assert len(books.books) <= 1


def test_a_plaintext_client_is_refused(front: Front) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{front.port}/v1/books", timeout=5)


def test_it_exports_the_days_until_its_certificate_expires(front: Front) -> None:
    stats = httpx.get(f"http://127.0.0.1:{front.ops_port}/stats/prometheus", timeout=10).text

    days = [line for line in stats.splitlines() if line.startswith("envoy_server_days_until_first_cert_expiring")]
    assert days and float(days[0].split()[-1]) > 300  # the mesh's leaf certificates live a year


def test_the_cli_loads_a_catalogue_through_the_tls_front(mesh, front: Front, admin) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATHENAEUM_")}
    demo = subprocess.run(
        [sys.executable, "-m", "services.support.launcher.cli", "catalog", "demo", "--titles", "2", "--seed", "11",
         "--target", f"https://localhost:{front.port}", "--ca-file", str(mesh.topology.cert_dir / CA_CERT),
         "--token", admin.access_token],
        env={**env, "PYTHONPATH": str(root)},  # this checkout's code, whatever the venv's editable install says
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "books created" in demo.stdout
