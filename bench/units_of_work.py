"""What a unit of work costs the service's process: SQLAlchemy's session against the driver's own transaction.

One step of a saga, as the loans and catalog services run them: BEGIN, a transaction-scoped advisory lock, a
row read by its key, a versioned UPDATE of it, COMMIT. Run (1) as the services do, through an `AsyncSession`
of `session_factory` with statements built once, and (2) on the same pool's asyncpg connection in an asyncpg
transaction (`engine.raw_connection()`, as the request ledger's statements run), and (3) as the services
run it now: the runtime's unit of work `on_driver` with a repository's DriverStatements. Also one read alone: a
session's (BEGIN, SELECT, ROLLBACK) and the driver's autocommit SELECT. And the issue's PENDING record (a
count, then an INSERT) in a transaction begun by the patron's lock, or as a single write (`single_write()`);
at `6136b55` it also measured an event's outbox row written in the COMMIT's round trip (not kept). And a
return's first read: its loan, then the head of its book's queue of holds, or both in one statement (a
correlated subquery, as `LoanRepository.to_return` reads them). And a saga step that records an event: its
outbox row written at the commit (a round trip of its own), or carried by the step's versioned UPDATE (as
the runtime does since `runtime.carrying`). And the driver's read through the server's Unix socket (as the
local mesh connects since 2026-12-06) against the same read over loopback TCP. Reported:
CPU microseconds of this process and of Postgres (every backend) per unit of work, on uvloop, alternating the
variants twice. Writes bench/results/units_of_work-<UTC time>.md. Run by hand (see bench/README.md):

    python bench/units_of_work.py
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from in_process import Runs, Work, alternated, machine, on_local_postgres, result_rows, write_report
from loadtools import shown
from unit_of_work_rows import LOCK, QUEUE_DDL, RAW_LOCK, RAW_READ, RAW_UPDATE, READ, UPDATE, RowsUnitOfWork

from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.requests_table import REQUESTS

TCP_READ = "one read, driver (autocommit), loopback TCP"


def over_loopback_tcp(url: str) -> str:
    """The same server and database over 127.0.0.1 instead of the Unix socket a local URL names."""
    parsed = make_url(url)
    port = parsed.query.get("port", parsed.port)
    return parsed.set(host="127.0.0.1", port=int(str(port)), query={}).render_as_string(hide_password=False)


def variants(engine: AsyncEngine, row_id: uuid.UUID, tcp: AsyncEngine) -> dict[str, Work]:
    sessions, reads = session_factory(engine), read_session_factory(engine)
    values = {"key": "patron", "row_id": row_id}

    async def session_step() -> None:
        async with sessions() as session:
            await session.execute(LOCK, values)
            await session.execute(READ, values)
            await session.execute(UPDATE, values)
            await session.commit()

    async def driver_step() -> None:
        pooled = await engine.raw_connection()
        try:
            connection = pooled.driver_connection
            async with connection.transaction():
                await connection.fetchrow(RAW_LOCK, "patron")
                await connection.fetchrow(RAW_READ, row_id)
                await connection.execute(RAW_UPDATE, row_id)
        finally:
            await greenlet_spawn(pooled.close)

    async def runtime_step() -> None:
        async with RowsUnitOfWork(sessions, encode=lambda event: event, on_driver=True) as uow:
            await uow.rows.step(values)
            await uow.commit()

    async def record(*, single: bool) -> None:
        uow = RowsUnitOfWork(sessions, encode=lambda event: event, read_sessions=reads, on_driver=True)
        async with uow.single_write() if single else uow:
            if not single:
                await uow.rows._advisory_lock("patron")
            await uow.rows.record(values)
            await uow.commit()

    async def step_with_event(*, carried: bool) -> None:
        uow = RowsUnitOfWork(sessions, encode=lambda event: event, on_driver=True)
        async with uow:
            await uow.advisory_lock("patron")
            await uow.rows.step_with_event(values, carried=carried)
            await uow.commit()

    async def return_read(*, joined: bool) -> None:
        uow = RowsUnitOfWork(sessions, encode=lambda event: event, read_sessions=reads, on_driver=True)
        async with uow.reading():
            await (uow.rows.lent_and_head(values) if joined else uow.rows.lent_then_head(values))

    async def session_read() -> None:
        async with sessions() as session:
            await session.execute(READ, values)

    async def driver_read(through: AsyncEngine) -> None:
        pooled = await through.raw_connection()
        try:
            await pooled.driver_connection.fetchrow(RAW_READ, row_id)
        finally:
            await greenlet_spawn(pooled.close)

    return {
        "saga step, SQLAlchemy session": session_step,
        "saga step, driver transaction": driver_step,
        "saga step, the runtime's unit of work on the driver": runtime_step,
        "one read, SQLAlchemy session": session_read,
        "one read, driver (autocommit)": partial(driver_read, engine),
        TCP_READ: partial(driver_read, tcp),
        "PENDING record, transaction with the patron's lock": partial(record, single=False),
        "PENDING record, single write": partial(record, single=True),
        "return's first read, the loan then its queue's head": partial(return_read, joined=False),
        "return's first read, both in one statement": partial(return_read, joined=True),
        "saga step with an event, its outbox row at the commit": partial(step_with_event, carried=False),
        "saga step with an event, its outbox row carried by the UPDATE": partial(step_with_event, carried=True),
    }


async def run(url: str, postmaster: int, *, count: int) -> Runs:
    engine = create_async_engine(url, pool_size=4)
    tcp = create_async_engine(over_loopback_tcp(url), pool_size=4)
    row_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE rows (id uuid PRIMARY KEY, version integer NOT NULL)"))
        await connection.execute(sa.text("CREATE TABLE records (id uuid PRIMARY KEY)"))
        await connection.execute(sa.text("INSERT INTO rows VALUES (:id, 1)"), {"id": row_id})
        for statement in QUEUE_DDL:
            await connection.execute(sa.text(statement))
        await connection.execute(sa.text("INSERT INTO lent VALUES (:id, 7, 1)"), {"id": row_id})
        await connection.run_sync(lambda sync: OUTBOX.create(sync))
        await connection.run_sync(lambda sync: REQUESTS.create(sync))  # a carrying update may record its request
    works = variants(engine, row_id, tcp)
    if not await _listens(tcp):  # a server on its Unix socket alone (the mesh's default): nothing to compare
        print("no TCP listener: the loopback TCP read is left out")
        works.pop(TCP_READ)
    try:
        return await alternated(works, count, postmaster)
    finally:
        await engine.dispose()
        await tcp.dispose()


async def _listens(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect():
            return True
    except OSError:
        return False


def report(results: Runs, count: int, started: datetime) -> Path:
    info, rows = machine(), result_rows(results)
    best = {name: min(run[0] for run in runs) for name, runs in results.items()}
    step = [best["saga step, SQLAlchemy session"], best["saga step, driver transaction"]]
    read = [best["one read, SQLAlchemy session"], best["one read, driver (autocommit)"]]
    postgres = {name: min(run[1] for run in runs) for name, runs in results.items()}
    socket_read, tcp_read = "one read, driver (autocommit)", TCP_READ
    text = f"""# Units of work: SQLAlchemy session against the driver — {started:%Y-%m-%d %H:%M} UTC

A saga step (BEGIN, advisory lock, read by key, UPDATE, COMMIT), a single read, the issue's PENDING record
(in a transaction begun by a lock, or as a single write) and a return's first read (the loan, then its book's
queue head, or both in one statement), {count:,} times each, twice, on uvloop against a local
Postgres; microseconds of this process's CPU, of Postgres's (every backend) and of wall time per unit of work.

## Machine
{info}

## Results
| unit of work | CPU us, this process (run 1 / run 2) | CPU us, Postgres | wall us |
|---|---:|---:|---:|
{rows}

The driver's saga step costs {step[1] / step[0]:.2f}x the session's CPU; its read {read[1] / read[0]:.2f}x (best runs).
Through the Unix socket the driver's read costs {best[socket_read] / best[tcp_read]:.2f}x this process's CPU over
loopback TCP, and {postgres[socket_read] / postgres[tcp_read]:.2f}x Postgres's.

```
python bench/units_of_work.py --count {count}
```
"""
    return write_report("units_of_work", started, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=3000, help="units of work per measurement (default 3000)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results = on_local_postgres("units_of_work", partial(run, count=args.count), tcp=True)
    print(f"report: {shown(report(results, args.count, started))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
