"""The issue saga under concurrency and crashes, with extra loans processes next to the mesh's own.

Extra processes share the mesh's loans database and leave through the loans sidecar (they are loans).
The edge reaches only the mesh's own loans process, so the tests call an extra one on its own socket, in
the mesh's private socket folder (as the owner of the mesh may), with what the loans sidecar would add
for the edge: its mesh identity header and the librarian's verified token claims.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from test_loans_through_the_mesh import new_book

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from services.support.launcher import components
from services.support.launcher.processes import ManagedProcess, ProcessSpec, Supervisor
from services.support.launcher.readiness import service_health, wait_until
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.runtime.identity import CLAIMS_HEADER

pytestmark = pytest.mark.e2e
ISSUES = 200
COPIES = 5


@contextlib.contextmanager
def loans_process(mesh, launcher_dir: Path, name: str, **settings: str) -> Iterator[tuple[ManagedProcess, str]]:
    """Another loans process on a socket of its own (same database, same sidecar), and its gRPC target;
    stopped on the way out."""
    spec = components.service_spec(
        "loans", mesh.topology, database_url=mesh.database_url("loans"), nats_url=mesh.nats_url
    )
    socket = mesh.topology.placement("loans").app_socket.with_name(f"{name}.sock")
    env = {**spec.env, "ATHENAEUM_SOCKET": str(socket), "ATHENAEUM_METRICS_PORT": "0"}  # type: ignore[dict-item]
    env.update({f"ATHENAEUM_{key.upper()}": value for key, value in settings.items()})
    supervisor = Supervisor(launcher_dir / "logs")
    try:
        process = supervisor.start(ProcessSpec(name=name, argv=spec.argv, env=env, cwd=spec.cwd))
        yield process, f"unix:{socket}"
    finally:
        supervisor.stop_all()


def wait_serving(process: ManagedProcess, target: str) -> None:
    wait_until(lambda: service_health(target) == "SERVING", timeout=60, what=process.name,
               check_alive=process.check_alive)  # fmt: skip


def as_edge(account) -> tuple[tuple[str, str], ...]:
    """The metadata the edge and the loans sidecar would add for this signed-in account."""
    claims = account.access_token.split(".")[1]
    return (("x-forwarded-client-cert", f"By={spiffe_id('loans')};URI={spiffe_id(EDGE)}"), (CLAIMS_HEADER, claims))


async def _issue(stub, patron: str, book: str, metadata) -> grpc.StatusCode:
    """One issue; shed by admission (RESOURCE_EXHAUSTED: nothing done), it is sent again after Retry-After."""
    while True:
        try:
            await stub.IssueLoan(loans_pb2.IssueLoanRequest(patron=patron, book=book), metadata=metadata, timeout=60)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                return error.code()
            await asyncio.sleep(float(dict(error.trailing_metadata() or ()).get("retry-after", "1")))
            continue
        return grpc.StatusCode.OK


async def test_two_processes_lend_each_of_five_copies_once_among_200_requests(
    mesh, launcher_dir: Path, edge: httpx.Client, librarian, new_reader
) -> None:
    patrons = [new_reader().name for _ in range(10)]
    book, _ = new_book(edge, librarian, copies=COPIES)
    with loans_process(mesh, launcher_dir, "loans-second") as (second, target):
        await asyncio.to_thread(wait_serving, second, target)
        async with (
            grpc.aio.insecure_channel(mesh.edge_grpc_target) as via_edge,
            grpc.aio.insecure_channel(target) as direct,
        ):
            routes = [
                (loans_pb2_grpc.LoansServiceStub(via_edge), librarian.metadata),
                (loans_pb2_grpc.LoansServiceStub(direct), as_edge(librarian)),
            ]
            codes = await asyncio.gather(
                *(_issue(*routes[i % 2][:1], patrons[i % len(patrons)], book, routes[i % 2][1]) for i in range(ISSUES))
            )
    assert Counter(codes) == {grpc.StatusCode.OK: COPIES, grpc.StatusCode.FAILED_PRECONDITION: ISSUES - COPIES}
    await asyncio.to_thread(each_copy_lent_once, edge, librarian, book)


def each_copy_lent_once(edge: httpx.Client, staff, book: str) -> None:
    listed = edge.get("/v1/loans", params={"book": book, "page_size": 100}, headers=staff.headers).json()
    assert listed["total_size"] == COPIES and len({loan["copy"] for loan in listed["loans"]}) == COPIES
    assert edge.get(f"/v1/{book}", headers=staff.headers).json()["available_copies"] == 0


def copy_of(edge: httpx.Client, staff, book: str) -> dict[str, str]:
    (copy,) = edge.get(f"/v1/{book}/copies", headers=staff.headers).json()["copies"]
    return copy


async def test_a_loans_process_killed_after_the_check_out_leaves_no_copy_out_after_recovery(
    mesh, launcher_dir: Path, edge: httpx.Client, librarian, new_reader
) -> None:
    patron = new_reader()
    book, (barcode,) = new_book(edge, librarian)
    request = loans_pb2.IssueLoanRequest(patron=patron.name, barcode=barcode)
    with loans_process(
        mesh, launcher_dir, "loans-crashing", fault_crash_after_checkout="true", reconcile_interval_seconds="0"
    ) as (crashing, target):
        await asyncio.to_thread(wait_serving, crashing, target)
        async with grpc.aio.insecure_channel(target) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as died:
                await loans_pb2_grpc.LoansServiceStub(channel).IssueLoan(
                    request, metadata=as_edge(librarian), timeout=30
                )
        assert died.value.code() == grpc.StatusCode.UNAVAILABLE
        await asyncio.to_thread(wait_until, lambda: crashing.poll() is not None, timeout=10, what="the crash")
        assert crashing.poll() == -9
    await asyncio.to_thread(out_without_a_loan, edge, librarian, book, patron.name)

    with loans_process(
        mesh, launcher_dir, "loans-recovered", saga_timeout_seconds="1", reconcile_interval_seconds="0.5"
    ) as (recovered, target):
        await asyncio.to_thread(wait_serving, recovered, target)
        await asyncio.to_thread(
            wait_until,
            lambda: copy_of(edge, librarian, book)["status"] == "COPY_STATUS_AVAILABLE",
            timeout=30,
            what="the reconciler to put the copy back",
        )
    again = await asyncio.to_thread(
        edge.post, "/v1/loans:issue", json={"patron": patron.name, "barcode": barcode}, headers=librarian.headers
    )
    assert again.status_code == 200, again.text


def out_without_a_loan(edge: httpx.Client, staff, book: str, patron: str) -> None:
    """The drift the crash left: the catalog has the copy out, yet the patron has no loan."""
    assert copy_of(edge, staff, book)["status"] == "COPY_STATUS_ON_LOAN"
    assert edge.get(f"/v1/{patron}/loans", headers=staff.headers).json().get("total_size", 0) == 0
