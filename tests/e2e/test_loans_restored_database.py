"""The loans database restored from a backup, through the real mesh (finding 4, D6): the catalog has a copy out on
a loan the restored database does not have. It was stuck ON_LOAN for ever; the reconciler now reports it and
leaves it out, its return by barcode at the desk checks it in and answers that loan, and the audit trail says
who did it and why.

The mesh's own loans process waits the default saga timeout (a minute) before a loan it has no record of may be
taken back; the return goes to another loans process with a saga timeout of a second (as in
test_loans_saga_under_load), on its own socket, as the edge would call it.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import httpx
import pytest
import sqlalchemy as sa
from circulation import copies_of, lend, new_book, reconcile
from sqlalchemy.ext.asyncio import create_async_engine
from test_events_through_the_edge import wait_for
from test_loans_saga_under_load import as_edge, loans_process, wait_serving

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc, resources_pb2
from services.loans.data.tables import loans
from services.loans.domain.unrecorded import UNRECORDED

pytestmark = pytest.mark.e2e


async def lose_with_a_restore(mesh, loan: str) -> None:
    """What restoring a backup taken before the loan leaves: no row of it in the loans database."""
    engine = create_async_engine(mesh.database_url("loans"))
    try:
        async with engine.begin() as connection:
            gone = await connection.execute(sa.delete(loans).where(loans.c.id == uuid.UUID(loan.split("/")[1])))
            assert gone.rowcount == 1  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_a_copy_out_on_a_loan_lost_with_a_restore_is_checked_in_by_its_return_at_the_desk(
    mesh, launcher_dir, edge: httpx.Client, admin, librarian, new_reader
) -> None:
    book, (barcode,) = new_book(edge, librarian)
    loan = lend(edge, librarian, new_reader().name, barcode=barcode)["name"]
    await lose_with_a_restore(mesh, loan)
    report = await asyncio.to_thread(reconcile, edge, admin)
    assert any(loan in line and "not recorded here" in line for line in report.get("discrepancies", [])), report
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_ON_LOAN"  # left for the desk

    with loans_process(
        mesh, launcher_dir, "loans-restored", saga_timeout_seconds="1", reconcile_interval_seconds="0"
    ) as (process, target):
        await asyncio.to_thread(wait_serving, process, target)
        await asyncio.sleep(1.5)  # the check-out is now older than any issue could be in flight
        request = loans_pb2.ReturnLoanRequest(barcode=barcode, request_id=str(uuid.uuid4()))
        async with grpc.aio.insecure_channel(target) as channel:
            returned = await loans_pb2_grpc.LoansServiceStub(channel).ReturnLoan(
                request, metadata=as_edge(librarian), timeout=30
            )
    assert (returned.name, returned.status, returned.patron) == (loan, resources_pb2.LOAN_STATUS_RETURNED, "")
    assert (returned.barcode, returned.book) == (barcode, book)
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_AVAILABLE"

    audit = await asyncio.to_thread(wait_for, edge, librarian, f'resource = "{loan}"', {"unrecorded_loan_returned"})
    (taken_back,) = [event for event in audit if event["type"].endswith(".unrecorded_loan_returned")]
    assert taken_back["actor"] == librarian.name and taken_back["attributes"]["reason"] == UNRECORDED


async def restore_the_loan_as_it_was(mesh, kept: dict, lost: str) -> None:
    """What restoring a backup taken while `kept` was out leaves, once its copy came back and went out on `lost`
    since: the older loan's row as it was then, no row of the newer one."""
    engine = create_async_engine(mesh.database_url("loans"))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.delete(loans).where(loans.c.id == uuid.UUID(lost.split("/")[1])))
            await connection.execute(sa.update(loans).where(loans.c.id == kept["id"]).values(**kept))
    finally:
        await engine.dispose()


async def a_row_of(mesh, loan: str) -> dict:
    engine = create_async_engine(mesh.database_url("loans"))
    try:
        async with engine.connect() as connection:
            found = await connection.execute(sa.select(loans).where(loans.c.id == uuid.UUID(loan.split("/")[1])))
            return dict(found.mappings().one())
    finally:
        await engine.dispose()


async def test_a_return_of_a_copy_out_again_since_the_backup_closes_the_restored_loan_and_checks_the_copy_in(
    mesh, launcher_dir, edge: httpx.Client, librarian, new_reader
) -> None:
    """The scan closed the restored loan as returned today by its old patron and left the copy out on the newer
    loan until a second scan a minute later (finding 1, F6): one scan now closes the stale loan without a fine
    and checks the copy in from the newer loan, which it answers."""
    book, (barcode,) = new_book(edge, librarian)
    old = lend(edge, librarian, new_reader().name, barcode=barcode)["name"]
    backup = await a_row_of(mesh, old)
    back = await asyncio.to_thread(edge.post, "/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
    assert back.status_code == 200, back.text
    new = lend(edge, librarian, new_reader().name, barcode=barcode)["name"]
    await restore_the_loan_as_it_was(mesh, backup, new)

    with loans_process(
        mesh, launcher_dir, "loans-restored-over", saga_timeout_seconds="1", reconcile_interval_seconds="0"
    ) as (process, target):
        await asyncio.to_thread(wait_serving, process, target)
        await asyncio.sleep(1.5)  # the newer loan's check-out is now older than any issue could be in flight
        request = loans_pb2.ReturnLoanRequest(barcode=barcode, request_id=str(uuid.uuid4()))
        async with grpc.aio.insecure_channel(target) as channel:
            returned = await loans_pb2_grpc.LoansServiceStub(channel).ReturnLoan(
                request, metadata=as_edge(librarian), timeout=30
            )
    assert (returned.name, returned.status, returned.patron) == (new, resources_pb2.LOAN_STATUS_RETURNED, "")
    assert copies_of(edge, librarian, book)[barcode]["status"] == "COPY_STATUS_AVAILABLE"
    assert (await a_row_of(mesh, old))["status"] == "RETURNED"
