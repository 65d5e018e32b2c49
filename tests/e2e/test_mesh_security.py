"""mTLS and RBAC on the real mesh: only registry callers with a mesh certificate reach a service."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.support.mesh import registry
from services.support.mesh.certs import cert_path, ensure_ca, issue_certificate, key_path

pytestmark = pytest.mark.e2e
TARGET = "catalog"
LIST_BOOKS = catalog_pb2.ListBooksRequest(page_size=1)


def _channel(mesh, *, ca: Path, chain: Path | None = None, key: Path | None = None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=chain.read_bytes() if chain else None,
    )
    return grpc.aio.secure_channel(
        mesh.sidecar_target(TARGET), credentials, options=[("grpc.ssl_target_name_override", TARGET)]
    )


def _as(mesh, identity: str) -> grpc.aio.Channel:
    certs = mesh.topology.cert_dir
    return _channel(mesh, ca=certs / "ca.pem", chain=cert_path(certs, identity), key=key_path(certs, identity))


async def _list_books(channel: grpc.aio.Channel) -> grpc.StatusCode:
    async with channel:
        try:
            await catalog_pb2_grpc.CatalogServiceStub(channel).ListBooks(LIST_BOOKS, timeout=5)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def test_a_plaintext_call_to_a_sidecar_is_refused(mesh) -> None:
    assert await _list_books(grpc.aio.insecure_channel(mesh.sidecar_target(TARGET))) == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_from_another_ca_is_refused(mesh, tmp_path: Path) -> None:
    rogue = tmp_path / "rogue"
    ensure_ca(rogue)
    chain, key = issue_certificate(rogue, "loans")
    channel = _channel(mesh, ca=mesh.topology.cert_dir / "ca.pem", chain=chain, key=key)
    assert await _list_books(channel) == grpc.StatusCode.UNAVAILABLE


async def test_a_mesh_identity_that_is_not_a_caller_gets_permission_denied(mesh) -> None:
    assert "events" not in registry.service(TARGET).callers
    assert await _list_books(_as(mesh, "events")) == grpc.StatusCode.PERMISSION_DENIED


async def test_an_allowed_caller_reaches_the_service(mesh) -> None:
    assert await _list_books(_as(mesh, "loans")) == grpc.StatusCode.OK


async def test_a_service_calls_its_peer_through_its_own_sidecar(mesh) -> None:
    """loans -> loans sidecar (adds loans' certificate) -> catalog sidecar (mTLS + RBAC) -> catalog."""
    assert await _list_books(grpc.aio.insecure_channel(mesh.outbound_target("loans"))) == grpc.StatusCode.OK


async def test_the_edge_identity_cannot_call_mesh_internal_methods(mesh) -> None:
    async with _as(mesh, registry.EDGE) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await catalog_pb2_grpc.CatalogServiceStub(channel).CheckOutCopy(
                catalog_pb2.CheckOutCopyRequest(), timeout=5
            )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_each_service_signs_in_to_postgres_as_its_own_role_and_reaches_only_its_database(mesh) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    from services.support.launcher.postgres import asyncpg_dsn

    admin = await asyncpg.connect(asyncpg_dsn(mesh.postgres.admin_url))
    try:
        seen = await admin.fetch(
            "SELECT DISTINCT datname, usename FROM pg_stat_activity WHERE datname = ANY($1::text[])",
            [spec.database for spec in registry.SERVICES],
        )
    finally:
        await admin.close()
    assert {(row["datname"], row["usename"]) for row in seen} == {
        (spec.database, spec.database) for spec in registry.SERVICES
    }
    loans = make_url(mesh.database_url("loans"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # the users' accounts and password hashes
        await asyncpg.connect(
            asyncpg_dsn(loans.set(database=registry.service("users").database).render_as_string(False))
        )
