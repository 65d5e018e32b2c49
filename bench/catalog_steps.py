"""What the catalog's desk steps cost: a check-out by barcode and its check-in, as single writes against the
locking transactions they were.

One unit is a copy checked out for a fresh loan and checked in again, through the catalog's own use cases and
units of work on a migrated catalog database (a book of five copies): (1) as the service runs them now, each
one read and one write that carries its event (`single_write()`, `carrying_events`); (2) as they ran before
(`0af4366`), each a transaction on the driver: BEGIN with the loan's advisory lock, the copy's row read FOR
UPDATE, the versioned UPDATE with the book's availability, the outbox row, COMMIT. Reported: CPU microseconds
of this process and of Postgres (every backend) and wall microseconds per unit, on uvloop, alternating the
two twice. Writes bench/results/catalog_steps-<UTC time>.md. Run by hand (see bench/README.md):

    python bench/catalog_steps.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from in_process import Runs, Work, alternated, machine, on_local_postgres, result_rows, write_report
from loadtools import shown

from services.catalog.api import events
from services.catalog.app import books, circulation, copies
from services.catalog.app.copies import save_copy
from services.catalog.data.unit_of_work import SqlCatalogUnitOfWork
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails
from services.support.runtime.clock import SystemClock
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.migrations import upgrade_to_head

CLOCK = SystemClock()


async def _a_copy(engine: AsyncEngine) -> Copy:
    """A book of five copies; the first, which every unit takes out and brings back."""
    units = session_factory(engine)
    book = await books.create_book(
        books.CreateBook(BookDetails(title="Dead Souls")), uow=SqlCatalogUnitOfWork(units, encode=events.encode),
        clock=CLOCK,
    )  # fmt: skip
    made = []
    for number in range(5):
        create = copies.CreateCopy(book.id, CopyDetails(barcode=f"STEP-{number}", branch="MAIN"))
        made.append(
            await copies.create_copy(create, uow=SqlCatalogUnitOfWork(units, encode=events.encode), clock=CLOCK)
        )
    return made[0]


def variants(engine: AsyncEngine, copy: Copy) -> dict[str, Work]:
    sessions, reads = session_factory(engine), read_session_factory(engine)

    def circulation_unit() -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(sessions, encode=events.encode, on_driver=True, read_sessions=reads)

    async def single_writes() -> None:
        loan = f"loans/{uuid.uuid4()}"
        selector = circulation.CopySelector(barcode=copy.details.barcode)
        await circulation.check_out_copy(circulation.CheckOutCopy(selector, loan), uow=circulation_unit(), clock=CLOCK)
        back = circulation.CheckInCopy(copy.book_id, copy.id, loan)
        await circulation.check_in_copy(back, uow=circulation_unit(), clock=CLOCK)

    async def locking_step(loan: str, *, out: bool) -> None:
        async with circulation_unit() as uow:
            await uow.lock(loan)
            read = await uow.copies.get(copy.book_id, copy.id, for_update=True)
            if out:
                read.check_out(loan, now=CLOCK.now())
            else:
                read.check_in(loan, now=CLOCK.now())
            await save_copy(read, uow)
            await uow.commit()

    async def locking_transactions() -> None:
        loan = f"loans/{uuid.uuid4()}"
        await locking_step(loan, out=True)
        await locking_step(loan, out=False)

    return {
        "check-out by barcode + check-in, single writes (now)": single_writes,
        "check-out + check-in, locking transactions (before)": locking_transactions,
    }


async def run(url: str, postmaster: int, *, count: int) -> Runs:
    await asyncio.to_thread(upgrade_to_head, "catalog", url)
    engine = create_async_engine(url, pool_size=4)
    try:
        return await alternated(variants(engine, await _a_copy(engine)), count, postmaster)
    finally:
        await engine.dispose()


def report(results: Runs, count: int, started: datetime) -> Path:
    now, before = (min(run[0] for run in runs) for runs in results.values())
    text = f"""# The catalog's desk steps: single writes against locking transactions — {started:%Y-%m-%d %H:%M} UTC

A copy checked out for a fresh loan and checked in again, {count:,} times per measurement, each way twice,
alternated, on uvloop against a local Postgres; microseconds of this process's CPU, of Postgres's (every
backend) and of wall time per check-out + check-in.

## Machine
{machine()}

## Results
| unit | CPU us, this process (run 1 / run 2) | CPU us, Postgres | wall us |
|---|---:|---:|---:|
{result_rows(results)}

The single writes cost {now / before:.2f}x the locking transactions' CPU in this process (best runs).

```
python bench/catalog_steps.py --count {count}
```
"""
    return write_report("catalog_steps", started, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="units per measurement (default 2000)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results = on_local_postgres("athenaeum_catalog", partial(run, count=args.count))
    print(f"report: {shown(report(results, args.count, started))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
