"""The request ledger's answers ride the next claim, on a real Postgres: an answer waits for a claim, which
stores it in its own statement; with no claim it is stored by itself after the linger; a claim of the same id
leaves it alone (an id that changed hands keeps its new owner's claim); closing the ledger stores what waits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.support.runtime.idempotency import REQUESTS, Attempt
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.request_ledger import RequestLedger
from services.support.runtime.request_ledger_statements import CLAIM, answer_rows

pytestmark = pytest.mark.integration
LONG = 30.0  # a linger no test waits out: only a claim (or closing) stores the answer


@pytest.fixture
async def engine(postgres) -> AsyncIterator[AsyncEngine]:
    url = postgres.fresh_database("answers")
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    engine = create_async_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def ledgers(engine: AsyncEngine) -> AsyncIterator[Callable[[float], RequestLedger]]:
    made: list[RequestLedger] = []

    def ledger(linger: float) -> RequestLedger:
        made.append(RequestLedger(engine, answer_linger=linger))
        return made[-1]

    yield ledger
    for ledger_made in made:
        await ledger_made.close()


async def _claimed(ledger: RequestLedger, *, lease: float = 10) -> Attempt:
    claimed = await ledger.claim(Attempt(uuid.uuid4(), "PayFine", uuid.uuid4()), b"print", lease=lease)
    assert isinstance(claimed, Attempt)
    return claimed


async def _answering(
    ledger: RequestLedger, answer: bytes, *, lease: float = 10
) -> tuple[Attempt, asyncio.Future[None]]:
    """An attempt that owns its id, and its answer on its way to the ledger."""
    attempt = await _claimed(ledger, lease=lease)
    return attempt, asyncio.ensure_future(ledger.answer(attempt, answer))


async def _row(engine: AsyncEngine, attempt: Attempt) -> tuple[Any, ...]:
    async with engine.connect() as connection:
        query = sa.select(REQUESTS.c.state, REQUESTS.c.answer, REQUESTS.c.owner)
        return tuple((await connection.execute(query.where(REQUESTS.c.request_id == attempt.request_id))).one())


async def test_an_answer_waits_for_the_next_claim_which_stores_it(
    engine: AsyncEngine, ledgers: Callable[[float], RequestLedger]
) -> None:
    ledger = ledgers(LONG)
    first, answering = await _answering(ledger, b"first's answer")
    await asyncio.sleep(0.1)
    assert not answering.done() and (await _row(engine, first))[:2] == ("IN_PROGRESS", None)
    await _claimed(ledger)
    await asyncio.wait_for(answering, 1)
    assert await _row(engine, first) == ("COMMITTED", b"first's answer", first.owner)


async def test_an_answer_no_claim_comes_for_is_stored_after_the_linger(
    engine: AsyncEngine, ledgers: Callable[[float], RequestLedger]
) -> None:
    ledger = ledgers(0.05)
    attempts = [await _claimed(ledger) for _ in range(3)]
    answers = [b"kept", None, bytes(range(256)) * 40]  # None: an answer not kept (it held fresh credentials)
    storing = (ledger.answer(attempt, answer) for attempt, answer in zip(attempts, answers, strict=True))
    await asyncio.wait_for(asyncio.gather(*storing), 2)
    assert [(await _row(engine, a))[:2] for a in attempts] == [("COMMITTED", answer) for answer in answers]


async def test_a_claim_of_the_id_an_answer_waits_for_leaves_the_answer_to_the_ids_owner(
    engine: AsyncEngine, ledgers: Callable[[float], RequestLedger]
) -> None:
    """The first attempt hung past its lease and another took the id over: the late answer is fenced off."""
    ledger = ledgers(LONG)
    hung, answering = await _answering(ledger, b"late", lease=0.1)
    await asyncio.sleep(0.3)
    taken_over = await ledger.claim(Attempt(hung.request_id, "PayFine", uuid.uuid4()), b"print", lease=10)
    await asyncio.sleep(0.1)
    assert isinstance(taken_over, Attempt) and not answering.done()  # not carried by a claim of its own id
    await ledger.close()
    await asyncio.wait_for(answering, 1)
    assert await _row(engine, hung) == ("IN_PROGRESS", None, taken_over.owner)


async def test_closing_the_ledger_stores_the_answers_waiting(
    engine: AsyncEngine, ledgers: Callable[[float], RequestLedger]
) -> None:
    ledger = ledgers(LONG)
    attempt, answering = await _answering(ledger, b"answer")
    await asyncio.sleep(0)
    await ledger.close()
    await asyncio.wait_for(answering, 1)
    assert (await _row(engine, attempt))[:2] == ("COMMITTED", b"answer")


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_claim_that_deadlocks_over_the_answers_it_carries_claims_again_alone(
    engine: AsyncEngine, ledgers: Callable[[float], RequestLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two claims, each storing the answer of the id the other claims (twins of two requests, each arriving as
    the other's first attempt answered), lock the two rows in opposite orders, and Postgres ends one as a
    deadlock: its caller was answered 409 "collided" (one run in ~20 of the e2e test of twins). The claim goes
    through alone, and the answer it carried is stored by the next claim."""
    ledger = ledgers(LONG)
    first, answering = await _answering(ledger, b"first's answer")
    await asyncio.sleep(0)
    run = ledger._run
    deadlocks = 0

    async def deadlocking_once(statement: Any, parameters: Any) -> Any:
        nonlocal deadlocks
        if parameters.get("answers") and not deadlocks:
            deadlocks += 1
            raise _Deadlock("deadlock detected")
        return await run(statement, parameters)

    monkeypatch.setattr(ledger, "_run", deadlocking_once)
    second = await ledger.claim(Attempt(uuid.uuid4(), "PayFine", uuid.uuid4()), b"print", lease=10)

    assert isinstance(second, Attempt) and second.first and deadlocks == 1
    await _claimed(ledger)  # the next claim carries the answer again
    await asyncio.wait_for(answering, 1)
    assert (await _row(engine, first))[:2] == ("COMMITTED", b"first's answer")


async def test_a_claim_carrying_an_answer_is_planned_once_per_connection_not_at_every_call(engine: AsyncEngine) -> None:
    """The answers go as JSON rows, whose number Postgres cannot see before it runs the statement: as arrays, a
    plan for the one answer each claim carried looked cheaper than the plan kept for any number, and most claims
    were planned again (~0.2 ms each)."""
    calls, owner, lease = 8, uuid.uuid4(), timedelta(seconds=10)
    async with engine.begin() as connection:  # the requests of a busy hour before
        await connection.execute(sa.text(_EARLIER), {"n": 5000})
        await connection.execute(sa.text("ANALYZE idempotent_requests"))
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        carried: list[Any] = []
        for _ in range(calls):
            rid = uuid.uuid4()
            parameters = {"rid": rid, "op": "PayFine", "prints": b"print", "attempt": owner, "lease": lease}
            row = await CLAIM.fetchrow(driver, **parameters, **answer_rows(carried))
            assert row["owner"] == owner and row["made"]
            carried = [(rid, owner, b"an answer", asyncio.get_running_loop().create_future())]
        generic, custom = await driver.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", CLAIM.sql
        )
        answered = await connection.scalar(sa.select(sa.func.count()).where(REQUESTS.c.answer == b"an answer"))
    assert generic == calls - custom and custom <= 5
    assert answered == calls - 1  # each claim stored the answer it carried


_EARLIER = """
INSERT INTO idempotent_requests (request_id, operation, resource, state, fingerprint, owner, answer)
SELECT gen_random_uuid(), 'PayFine', '', 'COMMITTED', '\\x00', gen_random_uuid(), '\\x00' FROM generate_series(1, :n)
"""
