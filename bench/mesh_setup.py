"""The mesh a bench runs against and what it puts in it: the whole mesh on free loopback ports (beside the
bare echo baseline, if asked), the bootstrap admin's token, a book, the demo library and its books' REST paths.

Its own module because most benches start the mesh this way (edge_throughput.py, catalog_reads.py,
auth_throughput.py, events_ingest.py, loans_cycles.py, saturation.py, wakeups.py), not only the one that
measures the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from baselines import start_baseline, stop_baseline
from loadtools import NO_PROXY

if TYPE_CHECKING:
    from services.support.launcher.mesh import LocalMesh


def start_mesh(data_dir: Path) -> LocalMesh:
    """The whole mesh on free loopback ports, with its own Postgres and NATS under `data_dir`."""
    from services.support.launcher.layout import local_mesh_topology
    from services.support.launcher.mesh import LocalMesh
    from services.support.mesh.topology import free_ports

    ports = free_ports()
    topology = local_mesh_topology(data_dir, ports=ports, edge_port=next(ports), edge_admin_port=next(ports))
    # One load generator on one address: the edge's per-client rate limits would measure themselves.
    topology = dataclasses.replace(topology, rate_limits=None)
    mesh = LocalMesh(data_dir, topology, progress=lambda step: print(f"  mesh: {step}", flush=True))
    mesh.start()  # a failed start has already stopped what it started
    return mesh


@contextlib.contextmanager
def mesh_beside_echo(data_dir: Path) -> Iterator[tuple[LocalMesh, str, BaseProcess]]:
    """The mesh (`start_mesh`) and the bare echo baseline on a free port beside it: the mesh, the echo's target
    and its process; both stopped on the way out, also when the echo fails to start."""
    from services.support.mesh.topology import free_ports

    echo_target = f"127.0.0.1:{next(free_ports())}"
    mesh, echo = start_mesh(data_dir), None
    try:
        echo = start_baseline(echo_target)
        yield mesh, echo_target, echo
    finally:
        stop_baseline(echo)
        mesh.stop()


def staff_token(edge_grpc_target: str) -> str:
    """The dev bootstrap admin's access token, once the edge accepts it (it fetches the JWKS as it starts)."""
    from athenaeum.users.v1 import users_pb2, users_pb2_grpc
    from services.users.settings import DEV_ADMIN_PASSWORD, UsersSettings

    login = users_pb2.LoginRequest(email=UsersSettings().bootstrap_admin_email, password=DEV_ADMIN_PASSWORD)
    me = users_pb2.GetUserRequest(name="users/me")
    deadline = time.monotonic() + 30
    with grpc.insecure_channel(edge_grpc_target, options=NO_PROXY) as channel:
        token = users_pb2_grpc.AuthServiceStub(channel).Login(login, timeout=10).tokens.access_token
        while True:
            try:
                users_pb2_grpc.UsersServiceStub(channel).GetUser(me, metadata=bearer(token), timeout=10)
                return str(token)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAUTHENTICATED or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def create_book(edge_grpc_target: str) -> str:
    """One book created by the bootstrap admin; returns its resource name."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

    token = staff_token(edge_grpc_target)
    with grpc.insecure_channel(edge_grpc_target, options=NO_PROXY) as channel:
        book = catalog_pb2.Book(title="Dead Souls", authors=["Nikolai Gogol"], language="ru")
        request = catalog_pb2.CreateBookRequest(book=book)
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        return str(stub.CreateBook(request, metadata=bearer(token), timeout=10).name)


def load_demo(target: str, titles: int) -> tuple[float, str]:
    """Streams the demo library in; returns the seconds it took and one book's name (a classic)."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
    from services.catalog.api import demo

    rows = list(demo.rows(titles))
    metadata = bearer(staff_token(target))
    started = time.perf_counter()
    with grpc.insecure_channel(target, options=NO_PROXY) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        for part in range(0, len(rows), demo.TITLES_PER_IMPORT):
            part_rows = rows[part : part + demo.TITLES_PER_IMPORT]
            messages = [
                catalog_pb2.ImportBooksRequest(
                    header=demo.HEADER if start == 0 else "", rows=part_rows[start : start + 1000]
                )
                for start in range(0, len(part_rows), 1000)
            ]
            summary = stub.ImportBooks(iter(messages), metadata=metadata, timeout=600)
            if summary.failed_count or summary.created_count != len(part_rows):
                raise RuntimeError(f"the demo import failed: {summary}")
        elapsed = time.perf_counter() - started
        found = stub.SearchBooks(catalog_pb2.SearchBooksRequest(query="Crime and Punishment", page_size=1))
    return elapsed, found.results[0].book.name


def write_book_paths(mesh: LocalMesh, path: Path) -> int:
    """Every book's REST path (/v1/books/<id>), one a line, for wrk's random choice; returns how many."""
    import asyncpg

    from services.support.launcher.postgres import asyncpg_dsn

    async def ids() -> list[str]:
        connection = await asyncpg.connect(asyncpg_dsn(mesh.database_url("catalog")))
        try:
            return [str(r["id"]) for r in await connection.fetch("SELECT id FROM books ORDER BY id")]
        finally:
            await connection.close()

    found = asyncio.run(ids())
    path.write_text("".join(f"/v1/books/{i}\n" for i in found))
    return len(found)
