"""What a return costs loans: its close in one statement against the transaction it was.

One unit is a return by barcode with a request_id, through loans' own use case and units of work on a migrated
loans database, of a loan lent (ACTIVE, not overdue, nobody waiting for its book) before the measurement; the
catalog is an in-process stand-in that answers the check-in at once. (1) As the service runs it now: the note
(one read, one write), then the close in one statement that carries its LoanReturned and the request's record
(`returning._close_unless_fined`). (2) As it ran before (`2aad229`): the same note, then the close as a
transaction on the driver: BEGIN, the overdue fine looked for, the versioned UPDATE carrying the event, the
request's record, COMMIT. Reported: CPU microseconds of this process and of Postgres (every backend) and wall
microseconds per return, on uvloop, alternating the two twice. Writes bench/results/loans_steps-<UTC time>.md.
Run by hand (see bench/README.md):

    python bench/loans_steps.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from in_process import Runs, Work, alternated, machine, on_local_postgres, result_rows, write_report
from loadtools import shown

from services.loans.api import events
from services.loans.app import returning
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.loans.domain.actors import Actor, Role
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.loans import Loan
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.clock import SystemClock
from services.support.runtime.engine import read_session_factory, session_factory
from services.support.runtime.migrations import upgrade_to_head

CLOCK = SystemClock()
DESK = Actor(user="users/desk", role=Role.LIBRARIAN)
CLOSE_AT_ONCE = returning._close_unless_fined


class Shelf:
    """The catalog's check-in, answered at once (the copy back on the shelf)."""

    async def check_in(self, *, copy: str, loan: str, hold: str, in_transit: bool = False) -> CopyInfo:
        return CopyInfo(name=copy, book="books/b", barcode="", item_type="BOOK", status="AVAILABLE")


async def _lent(engine: AsyncEngine, count: int) -> Iterator[str]:
    """`count` ACTIVE loans, one copy each; their barcodes, for the returns to take one by one."""
    now = CLOCK.now()
    rule = CirculationRule(uuid.uuid4(), RuleTerms("*", "*"), now, now)
    uow = SqlLoansUnitOfWork(session_factory(engine), encode=events.encoder(UTC))
    barcodes = []
    async with uow:
        for number in range(count):
            barcode = f"STEP-{number:06d}"
            loan = Loan.begin(
                patron=f"users/p{number % 50}", book="", barcode=barcode, requested_copy="", hold="",
                request_id=None, issued_by="users/desk", now=now - timedelta(days=1),
            )  # fmt: skip
            copy = CopyInfo(name=f"books/b/copies/{number}", book="books/b", barcode=barcode, item_type="BOOK",
                            status="ON_LOAN")  # fmt: skip
            loan.activate(copy, rule=rule, book_title="Dead Souls", now=now - timedelta(days=1), zone=UTC)
            loan.events.clear()
            await uow.loans.add(loan)
            barcodes.append(barcode)
        await uow.commit()
    return iter(barcodes)


def variants(engine: AsyncEngine, barcodes: Iterator[str]) -> dict[str, Work]:
    sessions, reads = session_factory(engine), read_session_factory(engine)
    shelf: Any = Shelf()

    def loans_unit() -> SqlLoansUnitOfWork:
        return SqlLoansUnitOfWork(sessions, encode=events.encoder(UTC), on_driver=True, read_sessions=reads)

    async def a_return() -> None:
        command = returning.ReturnLoan(barcode=next(barcodes), request_id=uuid.uuid4(), actor=DESK)
        await returning.return_loan(command, uow=loans_unit(), clock=CLOCK, catalog=shelf, currency="EUR", zone=UTC)

    async def close_at_once() -> None:
        returning._close_unless_fined = CLOSE_AT_ONCE
        await a_return()

    async def close_in_a_transaction() -> None:
        returning._close_unless_fined = _never  # type: ignore[assignment]
        await a_return()

    return {
        "return: note + close in one statement (now)": close_at_once,
        "return: note + close in a transaction (before)": close_in_a_transaction,
    }


async def _never(*_: object, **__: object) -> None:
    """The close left to the transaction, as before there was another way."""
    return None


async def run(url: str, postmaster: int, *, count: int) -> Runs:
    await asyncio.to_thread(upgrade_to_head, "loans", url)
    engine = create_async_engine(url, pool_size=4)
    try:
        barcodes = await _lent(engine, 4 * (count + count // 10))  # two variants, twice each, with warm-ups
        return await alternated(variants(engine, barcodes), count, postmaster)
    finally:
        returning._close_unless_fined = CLOSE_AT_ONCE
        await engine.dispose()


def report(results: Runs, count: int, started: datetime) -> Path:
    now, before = (min(run[0] for run in runs) for runs in results.values())
    text = f"""# A return's close: one statement against a transaction — {started:%Y-%m-%d %H:%M} UTC

A return by barcode with a request_id (the note, the check-in answered in process, the close), {count:,} times
per measurement, each way twice, alternated, on uvloop against a local Postgres; microseconds of this
process's CPU, of Postgres's (every backend) and of wall time per return.

## Machine
{machine()}

## Results
| unit | CPU us, this process (run 1 / run 2) | CPU us, Postgres | wall us |
|---|---:|---:|---:|
{result_rows(results)}

The close in one statement costs {now / before:.2f}x the transaction's CPU in this process (best runs).

```
python bench/loans_steps.py --count {count}
```
"""
    return write_report("loans_steps", started, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="returns per measurement (default 2000)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results = on_local_postgres("athenaeum_loans", partial(run, count=args.count))
    print(f"report: {shown(report(results, args.count, started))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
