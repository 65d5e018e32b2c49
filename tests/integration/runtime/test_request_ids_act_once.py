"""A request_id acts once and has one answer, whatever the retries, twins, cut-offs and crashes around it:
the runtime's request ledger on a real Postgres, in front of a servicer the test controls."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument
from services.support.runtime.idempotency import Attempt, RequestLog, current_attempt
from services.support.runtime.interceptors import ServerInterceptor
from services.support.runtime.method_facts import fingerprint
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.mutations import MutationInterceptor
from services.support.runtime.request_ledger import RequestLedger

pytestmark = pytest.mark.integration
SERVICE, METHOD = "athenaeum.loans.v1.LoansService", "PayFine"
BUDGET = 1.5


@dataclass
class Desk:
    """The servicer's behaviour, set by each test; `runs` counts how often it really ran."""

    act: Callable[[loans_pb2.PayFineRequest, int], Awaitable[resources_pb2.Fine]]
    runs: int = 0
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, request: loans_pb2.PayFineRequest, context: Any) -> resources_pb2.Fine:
        self.runs += 1
        try:
            return await self.act(request, self.runs)
        finally:
            self.finished.set()


async def paid(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
    return resources_pb2.Fine(name=request.name, paid_amount=request.amount, description=f"run {run}")


@dataclass
class Served:
    desk: Desk
    stub: Callable[..., Any]
    ledger: RequestLedger
    engine: Any


def _server(ledger: RequestLedger, wiring: str) -> tuple[grpc.aio.Server, grpc.aio.Server]:
    """The server, and what to add handlers to: the two interceptors stacked on the server, or the runtime's
    one interceptor carrying the ledger (as services run it: handlers wrapped once, at registration)."""
    mutations = MutationInterceptor(ledger, policy={}, work_budget_seconds=BUDGET)
    if wiring == "stacked":
        server = grpc.aio.server(interceptors=[ServerInterceptor(default_deadline_seconds=10), mutations])
        return server, server
    server = grpc.aio.server()
    one = ServerInterceptor(default_deadline_seconds=10, mutations=mutations)
    return server, cast(grpc.aio.Server, one.registrar(server))


@pytest.fixture(params=["stacked", "one interceptor"])
async def served(postgres, request) -> AsyncIterator[Served]:
    url = await asyncio.to_thread(postgres.fresh_database, "ledger")
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    engine = create_async_engine(url)
    ledger = RequestLedger(engine)
    desk = Desk(paid)
    server, registrar = _server(ledger, request.param)
    handler = grpc.unary_unary_rpc_method_handler(
        desk,
        request_deserializer=loans_pb2.PayFineRequest.FromString,
        response_serializer=resources_pb2.Fine.SerializeToString,
    )
    registrar.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = channel.unary_unary(
            f"/{SERVICE}/{METHOD}",
            request_serializer=loans_pb2.PayFineRequest.SerializeToString,
            response_deserializer=resources_pb2.Fine.FromString,
        )
        yield Served(desk, stub, ledger, engine)
    await server.stop(None)
    await engine.dispose()


def pay(request_id: str, amount: str = "3.00") -> loans_pb2.PayFineRequest:
    return loans_pb2.PayFineRequest(name="fines/f", amount=amount, request_id=request_id)


async def outcome(served: Served, request: loans_pb2.PayFineRequest, **kwargs: Any) -> str:
    try:
        fine = await served.stub(request, timeout=kwargs.pop("timeout", 10), **kwargs)
    except grpc.aio.AioRpcError as error:
        return f"{error.code().name} {reason(error)}"
    return f"OK {fine.paid_amount} {fine.description}"


def reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


async def test_twins_in_flight_run_once_and_get_the_same_answer(served: Served) -> None:
    async def slow(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        await asyncio.sleep(0.3)
        return await paid(request, run)

    served.desk.act = slow
    request_id = str(uuid.uuid4())
    answers = await asyncio.gather(*(outcome(served, pay(request_id)) for _ in range(10)))
    assert served.desk.runs == 1
    assert set(answers) == {"OK 3.00 run 1"}


async def test_a_retry_gets_the_first_answer_not_the_state_of_now(served: Served) -> None:
    request_id = str(uuid.uuid4())
    assert await outcome(served, pay(request_id)) == "OK 3.00 run 1"
    assert await outcome(served, pay(str(uuid.uuid4()))) == "OK 3.00 run 2"  # another payment meanwhile
    assert await outcome(served, pay(request_id)) == "OK 3.00 run 1"
    assert served.desk.runs == 2


async def test_the_answer_goes_out_while_it_is_stored_and_a_retry_meanwhile_waits_for_it(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored, store = asyncio.Event(), served.ledger.answer

    async def store_once_let(attempt: Attempt, answer: bytes | None) -> None:
        await stored.wait()
        await store(attempt, answer)

    monkeypatch.setattr(served.ledger, "answer", store_once_let)
    request_id = str(uuid.uuid4())
    assert await asyncio.wait_for(outcome(served, pay(request_id)), 5) == "OK 3.00 run 1"  # not stored yet
    retry = asyncio.ensure_future(outcome(served, pay(request_id)))
    await asyncio.sleep(0.3)
    assert not retry.done()  # it waits for the answer: the request does not run again
    stored.set()
    assert await retry == "OK 3.00 run 1"
    assert served.desk.runs == 1


async def test_a_final_refusal_is_the_answer_to_every_retry(served: Served) -> None:
    async def refuse_first(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        if run == 1:
            raise FailedPrecondition("fines/f is already paid", reason="FINE_NOT_OUTSTANDING")
        return await paid(request, run)

    served.desk.act = refuse_first
    request_id = str(uuid.uuid4())
    assert await outcome(served, pay(request_id)) == "FAILED_PRECONDITION FINE_NOT_OUTSTANDING"
    assert await outcome(served, pay(request_id)) == "FAILED_PRECONDITION FINE_NOT_OUTSTANDING"
    assert served.desk.runs == 1


async def test_a_refusal_by_state_that_may_change_soon_is_not_kept_for_the_id(served: Served) -> None:
    async def opted_out_first(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        if run == 1:
            raise FailedPrecondition("the user does not accept sms", reason="CHANNEL_OPTED_OUT", lasting=False)
        return await paid(request, run)

    served.desk.act = opted_out_first
    request_id = str(uuid.uuid4())
    assert await outcome(served, pay(request_id)) == "FAILED_PRECONDITION CHANNEL_OPTED_OUT"
    assert await outcome(served, pay(request_id)) == "OK 3.00 run 2"


async def test_a_refusal_that_changed_nothing_frees_the_id_for_a_corrected_retry(served: Served) -> None:
    async def invalid_first(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        if run == 1:
            raise InvalidArgument.field("amount", "must be positive")
        return await paid(request, run)

    served.desk.act = invalid_first
    request_id = str(uuid.uuid4())
    assert await outcome(served, pay(request_id)) == "INVALID_ARGUMENT INVALID_ARGUMENT"
    assert await outcome(served, pay(request_id)) == "OK 3.00 run 2"


async def test_the_same_id_with_another_request_is_refused(served: Served) -> None:
    request_id = str(uuid.uuid4())
    assert await outcome(served, pay(request_id, "3.00")) == "OK 3.00 run 1"
    assert await outcome(served, pay(request_id, "6.00")) == "INVALID_ARGUMENT INVALID_ARGUMENT"
    assert served.desk.runs == 1


async def test_a_call_its_client_cut_off_finishes_and_its_retry_gets_the_answer(served: Served) -> None:
    async def slow(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        await asyncio.sleep(0.5)
        return await paid(request, run)

    served.desk.act = slow
    request_id = str(uuid.uuid4())
    assert await outcome(served, pay(request_id), timeout=0.1) == "DEADLINE_EXCEEDED "
    await asyncio.wait_for(served.desk.finished.wait(), 5)
    assert await outcome(served, pay(request_id)) == "OK 3.00 run 1"
    assert served.desk.runs == 1


async def test_a_twin_whose_deadline_comes_first_hears_request_in_progress_with_retry_info(served: Served) -> None:
    async def slow(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        await asyncio.sleep(1.0)
        return await paid(request, run)

    served.desk.act = slow
    request_id = str(uuid.uuid4())
    first = asyncio.create_task(outcome(served, pay(request_id)))
    await asyncio.sleep(0.2)
    with pytest.raises(grpc.aio.AioRpcError) as twin:
        await served.stub(pay(request_id), timeout=0.8)
    assert twin.value.code() == grpc.StatusCode.ABORTED and reason(twin.value) == "REQUEST_IN_PROGRESS"
    status = rpc_status.from_call(twin.value)  # type: ignore[arg-type]
    assert any(detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for detail in status.details)
    assert ("retry-after", "1") in tuple(twin.value.trailing_metadata() or ())
    assert await first == "OK 3.00 run 1"


async def test_an_id_whose_first_attempt_died_is_taken_over_after_its_lease(served: Served) -> None:
    request_id = uuid.UUID(str(uuid.uuid4()))
    dead = Attempt(request_id, METHOD, uuid.uuid4())  # claimed by a process that was then killed
    # A lease of 2 s: a loaded machine may take a fair part of a second between the claim and the twin (half
    # a second's lease ran out first now and then). A twin's deadline of 0.5 s leaves it no time to wait: it is
    # answered at once, with the whole half second for the round trip.
    claimed = await served.ledger.claim(dead, fingerprint(METHOD, pay(str(request_id)), ""), lease=2.0)
    assert isinstance(claimed, Attempt) and claimed.first
    assert await outcome(served, pay(str(request_id)), timeout=0.5) == "ABORTED REQUEST_IN_PROGRESS"
    await asyncio.sleep(2.1)
    assert await outcome(served, pay(str(request_id))) == "OK 3.00 run 1"


async def test_a_late_commit_of_an_attempt_that_lost_its_claim_is_fenced_off(served: Served) -> None:
    request_id = uuid.uuid4()
    stale = Attempt(request_id, METHOD, uuid.uuid4())
    assert isinstance(await served.ledger.claim(stale, b"print", lease=0.1), Attempt)
    await asyncio.sleep(0.2)
    taken_over = await served.ledger.claim(Attempt(request_id, METHOD, uuid.uuid4()), b"print", lease=5)
    assert isinstance(taken_over, Attempt) and not taken_over.first  # the stale attempt may have committed
    async with served.engine.connect() as connection:
        current_attempt.set(stale)
        async with connection.begin():
            session = AsyncSession(bind=connection)
            with pytest.raises(Conflict) as fenced:
                await RequestLog(session).remember(request_id, METHOD, "fines/f")
    assert fenced.value.reason == "REQUEST_IN_PROGRESS"


async def test_an_answer_after_a_commit_describes_the_commit_the_use_case_recalls(served: Served) -> None:
    """The use case committed (and remembered) its change, then a later step failed: the answer is the
    change, recalled by running the use case again, not the failure. While the attempt that claimed the id
    runs, nothing is committed under it, so the use case's recall answers at once (no statement); run again to
    recall, it reads the ledger and finds the change."""
    recalled: list[str | None] = []

    async def recall(request_id: str) -> str | None:
        async with AsyncSession(served.engine) as session:
            return await RequestLog(session).recall(uuid.UUID(request_id), METHOD)

    async def commit_then_fail(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        recalled.append(await recall(request.request_id))
        if run == 1:
            await remember_committed(served, request.request_id)
            raise Conflict("lost a race after the commit", reason="SOMETHING_LATER")
        return await paid(request, run)

    served.desk.act = commit_then_fail
    assert await outcome(served, pay(str(uuid.uuid4()))) == "OK 3.00 run 2"
    assert recalled == [None, "fines/f"]


async def remember_committed(served: Served, request_id: str) -> None:
    async with AsyncSession(served.engine) as session:
        await RequestLog(session).remember(uuid.UUID(request_id), METHOD, "fines/f")
        await session.commit()


async def test_only_the_attempt_whose_claim_made_the_id_is_told_it_is_the_first(served: Served) -> None:
    """A use case may skip looking for what its request made only when no attempt before it can have made it."""
    firsts: list[bool] = []

    async def noting(request: loans_pb2.PayFineRequest, run: int) -> resources_pb2.Fine:
        firsts.append(RequestLog(cast(AsyncSession, None)).is_first_attempt(uuid.UUID(request.request_id)))
        return await paid(request, run)

    served.desk.act = noting
    taken_over = uuid.uuid4()
    dead = Attempt(taken_over, METHOD, uuid.uuid4())
    assert isinstance(
        await served.ledger.claim(dead, fingerprint(METHOD, pay(str(taken_over)), ""), lease=0.2), Attempt
    )
    await asyncio.sleep(0.3)
    assert await outcome(served, pay(str(taken_over))) == "OK 3.00 run 1"
    assert await outcome(served, pay(str(uuid.uuid4()))) == "OK 3.00 run 2"
    assert firsts == [False, True]
