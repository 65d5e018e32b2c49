"""The saga's steps in the catalog run on the driver's own transaction (`on_driver`): all or nothing, their
events in the outbox as a session writes them, their errors translated the same way, and the connection
back in the pool clean whatever happened."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog.app import books, circulation, copies
from services.catalog.app.copies import save_copy
from services.catalog.app.queries import Condition
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.support.launcher.postgres import asyncpg_dsn
from services.support.runtime.callers import current_caller
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import Conflict
from services.support.runtime.identity import ANONYMOUS, EDGE_CALLER
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.outbox import OUTBOX
from tests.integration.catalog.conftest import CatalogUnits

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
STATUS_CHANGED = "athenaeum.catalog.copy_status_changed.v1"


async def _book_with_copies(units: CatalogUnits, count: int) -> Book:
    book = await books.create_book(books.CreateBook(BookDetails(title="Oblomov")), uow=units(), clock=CLOCK)
    for number in range(count):
        details = CopyDetails(barcode=f"D-{uuid.uuid4().hex[:8]}-{number}")
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=units(), clock=CLOCK)
    return book


async def _statuses(units: CatalogUnits, book: Book) -> list[CopyStatus]:
    listed = await copies.list_copies(copies.ListCopies(book.id), uow=units.reads())
    return [c.status for c in listed.items]


async def _outbox_subjects(units: CatalogUnits) -> list[str]:
    async with units() as uow:
        return list((await uow.session.scalars(sa.select(OUTBOX.c.subject))).all())


async def _check_out(units: CatalogUnits, book: Book, loan: str) -> None:
    command = circulation.CheckOutCopy(circulation.CopySelector(book_id=book.id), loan=loan)
    await circulation.check_out_copy(command, uow=units.circulation(), clock=CLOCK)


async def _check_out_any(uow, book: Book, loan: str = "") -> Copy:
    """Inside the caller's unit of work: an available copy of the book out on the loan (a new one by default)."""
    copy = await uow.copies.first_available(book.id)
    assert copy is not None
    copy.check_out(loan or _loan(), now=CLOCK.now())
    await save_copy(copy, uow)
    return copy


def _loan() -> str:
    return f"loans/{uuid.uuid4()}"


@pytest.fixture
async def one_connection(catalog_uow: CatalogUnits):
    """The same database behind a pool of one connection: whatever a unit of work leaves on it, the next
    one finds."""
    engine = create_async_engine(catalog_uow.engine.url, pool_size=1, max_overflow=0)
    yield CatalogUnits(engine)
    await engine.dispose()


async def test_a_step_that_fails_before_commit_leaves_nothing_and_a_clean_connection(one_connection) -> None:
    units = one_connection
    book = await _book_with_copies(units, 1)
    with pytest.raises(RuntimeError, match="the desk lost power"):
        async with units.circulation() as uow:
            await _check_out_any(uow, book)
            raise RuntimeError("the desk lost power")
    assert await _statuses(units, book) == [CopyStatus.AVAILABLE]
    assert STATUS_CHANGED not in await _outbox_subjects(units)
    # The next step on that connection commits for everyone: it is not nested in what the failure left.
    await _check_out(units, book, _loan())
    connection = await asyncpg.connect(asyncpg_dsn(str(units.engine.url.render_as_string(hide_password=False))))
    try:
        seen = await connection.fetchval("SELECT status FROM copies WHERE book_id = $1", book.id)
    finally:
        await connection.close()
    assert seen == CopyStatus.ON_LOAN.value


async def test_a_constraint_broken_on_the_driver_is_translated_and_undone(catalog_uow) -> None:
    """Two copies out on one loan break `copies_current_loan`: the same Conflict as through a session."""
    book = await _book_with_copies(catalog_uow, 2)
    loan = _loan()
    with pytest.raises(Conflict) as caught:
        async with catalog_uow.circulation() as uow:
            await _check_out_any(uow, book, loan)
            await _check_out_any(uow, book, loan)  # another copy, the same loan
    assert caught.value.reason == "CONCURRENT_UPDATE"  # a race a repeat resolves: the runtime repeats it
    assert await _statuses(catalog_uow, book) == [CopyStatus.AVAILABLE, CopyStatus.AVAILABLE]


async def test_a_statement_without_a_driver_form_joins_the_drivers_transaction(one_connection) -> None:
    """A session statement in a unit of work on the driver runs on its connection, in its transaction: it sees
    what the driver wrote, and is undone or committed with it."""
    units = one_connection
    book = await _book_with_copies(units, 2)
    on_loan = [Condition("status", "=", CopyStatus.ON_LOAN.value)]
    with pytest.raises(RuntimeError, match="undo"):
        async with units.circulation() as uow:
            copy = await _check_out_any(uow, book)
            assert [c.id for c in await uow.copies.list(book_id=book.id, conditions=on_loan, after=None, limit=5)] == [
                copy.id
            ]
            await uow.copies.remove(copy)
            raise RuntimeError("undo")
    assert await _statuses(units, book) == [CopyStatus.AVAILABLE, CopyStatus.AVAILABLE]
    async with units.circulation() as uow:  # the session's statement first: it begins the transaction
        first, _ = await uow.copies.list(book_id=book.id, conditions=(), after=None, limit=5)
        await uow.copies.remove(first)
        await uow.commit()
    assert await _statuses(units, book) == [CopyStatus.AVAILABLE]
    # The connection went back to the pool with its own transactions again: a session's change is undone.
    with pytest.raises(RuntimeError, match="undo"):
        async with units() as uow:
            (last,) = await uow.copies.list(book_id=book.id, conditions=(), after=None, limit=5)
            await uow.copies.remove(last)
            raise RuntimeError("undo")
    assert await _statuses(units, book) == [CopyStatus.AVAILABLE]


async def test_events_committed_on_the_driver_reach_the_outbox_with_their_headers(catalog_uow) -> None:
    book = await _book_with_copies(catalog_uow, 1)
    token = current_caller.set(EDGE_CALLER)  # a call from outside the mesh, nobody signed in: ANONYMOUS
    try:
        await _check_out(catalog_uow, book, _loan())
    finally:
        current_caller.reset(token)
    async with catalog_uow() as uow:
        rows = (await uow.session.execute(sa.select(OUTBOX).where(OUTBOX.c.subject == STATUS_CHANGED))).all()
    assert len(rows) == 1
    assert rows[0].headers[ACTOR_HEADER] == ANONYMOUS  # a JSON object, as a session writes it
    assert rows[0].payload and rows[0].occurred_at == CLOCK.now()


@pytest.mark.parametrize("key", ["loans/6b1f0c3e-0d0e-4d3c-9a59-2f8e3f4a0b11", "loans/o'brien; --"])
async def test_the_lock_that_begins_a_transaction_is_the_lock_every_other_path_takes(catalog_uow, key) -> None:
    """A plain key is locked in the round trip that begins the transaction (written into the statement), any
    other key by a parameter: either way it is the same lock as a session's, held until the commit."""
    async with catalog_uow.circulation() as first:
        await first.lock(key)
        second = catalog_uow()

        async def lock_then_leave() -> None:
            async with second:
                await second.lock(key)

        waiting = asyncio.ensure_future(lock_then_leave())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the session's lock waits for the driver's transaction
        await first.commit()
    await asyncio.wait_for(waiting, timeout=5)


@pytest.mark.parametrize("key", ["loans/0c8e9d43-8f57-4c1b-9d7e-1f0f1b2d9a10", "loans/o'brien; --"])
async def test_a_step_cancelled_while_it_waits_for_its_lock_leaves_no_transaction_in_the_pool(catalog_uow, key) -> None:
    """A unit of work cancelled while its first statement (the BEGIN with its lock) is still on the wire: the
    connection it gives back is ended or closed, never lent again inside that transaction."""
    engine = create_async_engine(catalog_uow.engine.url, pool_size=2, max_overflow=0)
    units = CatalogUnits(engine)
    try:
        async with units.circulation() as holder:
            await holder.lock(key)

            async def wait_for_the_lock() -> None:
                async with units.circulation() as uow:
                    await uow.lock(key)

            waiting = asyncio.ensure_future(wait_for_the_lock())
            await asyncio.sleep(0.3)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await holder.commit()
        for _ in range(3):  # both connections again, through sessions and the driver
            book = await _book_with_copies(units, 1)
            await _check_out(units, book, _loan())
            assert await _statuses(units, book) == [CopyStatus.ON_LOAN]
    finally:
        await engine.dispose()


async def test_a_read_cancelled_mid_statement_does_not_hand_a_busy_connection_on(one_connection) -> None:
    """A read-only unit of work cancelled while its statement runs (a client gone): the next unit of work on
    the pool's only connection is served, not told another operation is in progress."""
    units = one_connection
    book = await _book_with_copies(units, 1)

    async def slow_read() -> None:
        async with units.reads() as uow:
            await (await uow.driver()).execute("SELECT pg_sleep(2)")

    reading = asyncio.ensure_future(slow_read())
    await asyncio.sleep(0.3)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert await _statuses(units, book) == [CopyStatus.AVAILABLE]
    await _check_out(units, book, _loan())
    assert await _statuses(units, book) == [CopyStatus.ON_LOAN]


async def test_a_connection_that_died_in_a_step_is_not_lent_again(one_connection) -> None:
    """The server ended the step's connection (a restart, an administrator): the step fails, and the pool's
    only connection is replaced, not handed on closed."""
    units = one_connection
    book = await _book_with_copies(units, 1)
    admin = await asyncpg.connect(asyncpg_dsn(units.engine.url.render_as_string(hide_password=False)))
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver says of a dead connection
            async with units.circulation() as uow:
                await uow.lock(_loan())
                driver = await uow.driver()
                await admin.fetchval(
                    "SELECT pg_terminate_backend($1)", await driver.fetchval("SELECT pg_backend_pid()")
                )
                await driver.fetchval("SELECT 1")
    finally:
        await admin.close()
    await _check_out(units, book, _loan())
    assert await _statuses(units, book) == [CopyStatus.ON_LOAN]
