"""What taking and giving back the driver's connection costs a unit of work: through SQLAlchemy's pool each time
(`engine.raw_connection()` and the pool's `close()`, as until 2026-12-07) against the runtime's `Lender`, which
keeps the connections given back checked out of the same pool (runtime/lending.py). Three units of work on the
driver (runtime/driver.py), each on an engine of `runtime.engine.create_engine` (the pool's checkout check
included): one that takes a connection and runs nothing (the checkout and check-in alone), an autocommit read
of one row (the hot reads before each issue, a request-ledger statement), and a saga step in the driver's
transaction (the advisory lock that begins it, a read, COMMIT). Reported: CPU microseconds of this process and
of Postgres (every backend), and wall microseconds, per unit of work, on uvloop, alternating the variants twice.
Writes bench/results/driver_checkouts-<UTC time>.md. Run by hand:

    python bench/driver_checkouts.py
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from in_process import Runs, Work, alternated, machine, on_local_postgres, result_rows, write_report
from loadtools import shown

from services.support.runtime.driver import DriverConnection, DriverStatement, DriverTransaction
from services.support.runtime.engine import create_engine
from services.support.runtime.lending import lend_from
from services.support.runtime.settings import BaseServiceSettings

READ = DriverStatement(sa.select(sa.literal_column("oid")).select_from(sa.table("pg_class")).where(
    sa.literal_column("relname") == sa.bindparam("name", type_=sa.Text)), read=True)  # fmt: skip


def units(engine: AsyncEngine) -> dict[str, Work]:
    async def nothing() -> None:
        connection = DriverConnection(engine, transactional=False)
        await connection.get()
        await connection.close()

    async def read() -> None:
        connection = DriverConnection(engine, transactional=False)
        try:
            await READ.fetchval(await connection.get(), name="pg_class")
        finally:
            await connection.close()

    async def step() -> None:
        transaction = DriverTransaction(engine)
        try:
            await transaction.lock("patrons/bench")
            await READ.fetchval(await transaction.get(), name="pg_class")
            await transaction.commit()
        finally:
            await transaction.close()

    return {"a connection taken and given back": nothing, "one autocommit read": read, "a saga step": step}


async def run(url: str, postmaster: int, count: int) -> Runs:
    settings = BaseServiceSettings(database_url=url)
    pooled, lent = create_engine(settings), create_engine(settings)
    lender = lend_from(lent, keep=settings.db_pool_size // 2, max_idle=settings.db_connection_max_idle_seconds)
    ways: dict[str, Callable[[], dict[str, Work]]] = {
        "through the pool": lambda: units(pooled),
        "through the lender": lambda: units(lent),
    }
    variants = {f"{name}, {way}": work for way, made in ways.items() for name, work in made().items()}
    ordered = dict(sorted(variants.items(), key=lambda item: list(variants).index(item[0]) % 3))
    try:
        return await alternated(ordered, count, postmaster)
    finally:
        await lender.close()
        await pooled.dispose()
        await lent.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=3000, help="units of work per variant and run (default 3000)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results = on_local_postgres("driver_checkouts", partial(run, count=args.count))
    text = f"""# The driver's connection per unit of work: the pool or the lender — {started:%Y-%m-%d %H:%M} UTC

{(__doc__ or "").split("Run by hand")[0].strip()}

## Machine
{machine()}

## Results ({args.count} units of work per variant and run, each variant run twice, alternated)
| unit of work | CPU us, this process | CPU us, Postgres | wall us |
|---|---:|---:|---:|
{result_rows(results)}

```
python bench/driver_checkouts.py --count {args.count}
```
"""
    print(f"report: {shown(write_report('driver_checkouts', started, text))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
