"""A request_id's retry after a Postgres restart runs as soon as the database is back: the attempt that failed
while it was away gives its claim up then, instead of holding the id for its whole lease (the 503 told the
client to retry with the same request_id). Still one attempt acts: a change committed before the outage is
recalled, not made again. A real Postgres of the test's own, stopped and started."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.support.launcher.local_postgres import LocalPostgres
from services.support.launcher.processes import Supervisor
from services.support.runtime.engine import create_engine
from services.support.runtime.idempotency import RequestLog
from services.support.runtime.interceptors import ServerInterceptor
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.mutations import MutationInterceptor
from services.support.runtime.request_ledger import RequestLedger
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration
SERVICE, METHOD = "athenaeum.loans.v1.LoansService", "PayFine"
BUDGET = 20.0
"""The work budget, so a claim's lease: far longer than a retry may wait here."""


@dataclass
class Restarted:
    server: LocalPostgres
    supervisor: Supervisor
    engine: AsyncEngine
    stub: Any
    recalled: list[str | None] = field(default_factory=list)
    runs: int = 0

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop)

    async def start(self) -> None:
        def start() -> None:
            self.supervisor.process(self.server.name).start()
            self.server.wait_ready()

        await asyncio.to_thread(start)


@pytest.fixture
async def restarted(own_postgres: tuple[LocalPostgres, Supervisor]) -> AsyncIterator[Restarted]:
    server, supervisor = own_postgres
    url = await asyncio.to_thread(server.fresh_database, "ledger")
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    engine = create_engine(BaseServiceSettings(database_url=url))
    grpc_server = grpc.aio.server()
    mutations = MutationInterceptor(RequestLedger(engine), policy={}, work_budget_seconds=BUDGET)
    registrar = ServerInterceptor(default_deadline_seconds=30, mutations=mutations).registrar(grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = channel.unary_unary(
            f"/{SERVICE}/{METHOD}",
            request_serializer=loans_pb2.PayFineRequest.SerializeToString,
            response_deserializer=resources_pb2.Fine.FromString,
        )
        state = Restarted(server, supervisor, engine, stub)
        handler = grpc.unary_unary_rpc_method_handler(
            lambda request, context: _desk(state, request),
            request_deserializer=loans_pb2.PayFineRequest.FromString,
            response_serializer=resources_pb2.Fine.SerializeToString,
        )
        registrar.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),))
        await grpc_server.start()
        yield state
    await grpc_server.stop(None)
    await engine.dispose()


async def _desk(state: Restarted, request: loans_pb2.PayFineRequest) -> resources_pb2.Fine:
    """Pays the fine; its first run meets the outage (after committing the payment when the amount says so)."""
    state.runs += 1
    async with AsyncSession(state.engine) as session:
        log = RequestLog(session)
        state.recalled.append(await log.recall(uuid.UUID(request.request_id), METHOD))
        if state.runs == 1 and request.amount == "9.00":
            await log.remember(uuid.UUID(request.request_id), METHOD, "fines/f")
            await session.commit()
    if state.runs == 1:
        await state.stop()
        async with state.engine.connect() as connection:  # the next statement meets the outage
            await connection.execute(sa.text("SELECT 1"))
    return resources_pb2.Fine(name=request.name, paid_amount=request.amount, description=f"run {state.runs}")


async def outcome(state: Restarted, request_id: str, amount: str, seconds: float) -> str:
    request = loans_pb2.PayFineRequest(name="fines/f", amount=amount, request_id=request_id)
    try:
        fine = await state.stub(request, timeout=seconds)
    except grpc.aio.AioRpcError as error:
        return error.code().name
    return f"OK {fine.paid_amount} {fine.description}"


async def test_a_retry_after_a_postgres_restart_runs_at_once_and_once(restarted: Restarted) -> None:
    request_id = str(uuid.uuid4())
    assert await outcome(restarted, request_id, "3.00", seconds=10) != "OK 3.00 run 1"  # it failed
    await restarted.start()
    began = time.monotonic()
    retries = await asyncio.gather(*(outcome(restarted, request_id, "3.00", seconds=5) for _ in range(3)))
    assert set(retries) == {"OK 3.00 run 2"}  # not ABORTED REQUEST_IN_PROGRESS after waiting for the lease
    assert time.monotonic() - began < 3
    assert restarted.runs == 2  # the twins of the retry did not run it again
    assert await outcome(restarted, request_id, "3.00", seconds=5) == "OK 3.00 run 2"


async def test_a_change_committed_before_the_outage_is_recalled_by_the_retry_not_made_again(
    restarted: Restarted,
) -> None:
    request_id = str(uuid.uuid4())
    assert await outcome(restarted, request_id, "9.00", seconds=10) != "OK 9.00 run 1"
    await restarted.start()
    began = time.monotonic()
    assert await outcome(restarted, request_id, "9.00", seconds=5) == "OK 9.00 run 2"
    assert time.monotonic() - began < 3
    assert restarted.recalled == [None, "fines/f"]  # the retry ran to recall the payment, not to make it


async def test_a_claim_left_by_the_outage_is_freed_without_a_retry_once_the_database_is_back(
    restarted: Restarted,
) -> None:
    """Another replica may take the retry: the process that holds the claim gives it up by itself."""
    request_id = str(uuid.uuid4())
    assert await outcome(restarted, request_id, "3.00", seconds=10) != "OK 3.00 run 1"
    await restarted.start()
    ledger = RequestLedger(restarted.engine)  # another replica's view of the ledger
    for _ in range(40):
        if await ledger.seen(uuid.UUID(request_id)) is None:
            break
        await asyncio.sleep(0.1)
    assert await ledger.seen(uuid.UUID(request_id)) is None


def _refusal(error: grpc.aio.AioRpcError) -> tuple[str, str, str, float, str]:
    """(code, message, ErrorInfo reason, RetryInfo seconds, Retry-After) of a refused call."""
    status = rpc_status.from_call(error)
    assert status is not None, "no google.rpc.Status details"
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    for detail in status.details:
        detail.Unpack(info) or detail.Unpack(retry)
    delay = retry.retry_delay.ToTimedelta().total_seconds()
    after = dict(error.trailing_metadata() or ()).get("retry-after", "")
    return error.code().name, status.message, info.reason, delay, str(after)


async def test_every_refusal_during_the_outage_says_the_same_and_when_to_retry(restarted: Restarted) -> None:
    """Whether the driver meets the stop mid-statement or is refused at connect, the client reads one answer."""
    refusals = []
    for _ in range(3):  # the first run meets the stop; the others find the database gone
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            request = loans_pb2.PayFineRequest(name="fines/f", amount="3.00", request_id=str(uuid.uuid4()))
            await restarted.stub(request, timeout=10)
        refusals.append(_refusal(caught.value))
    message = "the database is unavailable for a moment; retry later (with the same request_id)"
    assert set(refusals) == {("UNAVAILABLE", message, "DATABASE_UNAVAILABLE", 1.0, "1")}
    await restarted.start()
