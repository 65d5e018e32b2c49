"""A single-write block (`uow.single_write()`, the issue's PENDING loan and the return's note) against a real
Postgres: its one statement commits by itself, with no transaction around it, and whatever could not be
atomic with it (a second write, a lock, an event) is refused before it runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from loans_world import START, World

from services.loans.data.tables import loans
from services.loans.domain.loans import Loan
from services.support.runtime.conflicts import counting_commits
from services.support.runtime.errors import Conflict

pytestmark = pytest.mark.integration


def _pending(patron: str = "users/ana") -> Loan:
    return Loan.begin(
        patron=patron, book="", barcode="B-1", requested_copy="", hold="", request_id=None, issued_by="", now=START
    )


async def _stored(world: World, loan: Loan) -> int:
    """How many rows of the loan another connection sees."""
    return int(str(await world.scalar(sa.select(sa.func.count()).where(loans.c.id == loan.id))))


async def _committed(world: World) -> Loan:
    loan = _pending()
    async with world.new_uow() as uow:
        await uow.loans.add(loan)
        await uow.commit()
    return loan


async def _title(world: World, loan: Loan) -> object:
    return await world.scalar(sa.select(loans.c.book_title).where(loans.c.id == loan.id))


async def test_the_write_is_committed_by_its_own_statement(world: World) -> None:
    loan = _pending()
    with counting_commits() as commits:
        async with world.new_uow().single_write() as uow:
            await uow.loans.add(loan)
            assert await _stored(world, loan) == 1  # seen by another connection before commit(): no transaction
            await uow.commit()
    assert commits == [1]  # the runtime knows a change is committed (it repeats no lost race after it)


async def test_a_second_write_is_refused_before_it_runs(world: World) -> None:
    first, second = _pending(), _pending("users/ben")
    with pytest.raises(RuntimeError, match="writes once"):
        async with world.new_uow().single_write() as uow:
            await uow.loans.add(first)
            await uow.loans.add(second)
    assert (await _stored(world, first), await _stored(world, second)) == (1, 0)


async def test_a_lock_is_refused(world: World) -> None:
    with pytest.raises(RuntimeError, match="takes no lock"):
        async with world.new_uow().single_write() as uow:
            await uow.loans.lock_patron("users/ana")


@pytest.mark.parametrize("writes", [False, True], ids=["at its commit", "before its write"])
async def test_an_event_is_refused_and_nothing_is_written(world: World, writes: bool) -> None:
    loan = await _committed(world)
    with pytest.raises(RuntimeError, match="records no event"):
        async with world.new_uow().single_write() as uow:
            read = await uow.loans.get(loan.id)
            read.events.append(object())  # whatever it is, it would need a second write: the outbox row
            read.book_title = "Oblomov"
            if writes:
                await uow.loans.save(read)
            await uow.commit()
    assert await _title(world, loan) != "Oblomov"
    assert await world.subjects() == []


async def test_a_loan_changed_since_it_was_read_is_a_lost_race_and_counts_no_commit(world: World) -> None:
    loan = await _committed(world)
    with counting_commits() as commits, pytest.raises(Conflict):
        async with world.new_uow().single_write() as uow:
            read = await uow.loans.get(loan.id)
            async with world.engine.begin() as other:  # someone else changes the loan meanwhile
                await other.execute(loans.update().where(loans.c.id == loan.id).values(version=loans.c.version + 1))
            read.book_title = "Oblomov"
            await uow.loans.save(read)
    assert commits == [0]
    assert await _title(world, loan) != "Oblomov"
