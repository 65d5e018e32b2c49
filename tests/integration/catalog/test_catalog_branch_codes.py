"""Branch codes on real Postgres (findings-second F8): the copies' `branch` filter was case-sensitive, so
`branch = "EAST"` missed a copy catalogued "east" (a library without a branch list keeps codes as typed) and one
stored " east " before codes were trimmed; a hold at EAST did not prefer the copy at "east" either."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.catalog.app import books, circulation, copies
from services.catalog.data.tables import copies as copies_table
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copies import NoCopyAvailable
from services.catalog.domain.copy_values import CopyDetails
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import FixedClock

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))


async def _copies_at(catalog_uow, *branches: str) -> uuid.UUID:
    book = await books.create_book(books.CreateBook(BookDetails(title="Branches")), uow=catalog_uow(), clock=CLOCK)
    for n, branch in enumerate(branches):
        details = CopyDetails(barcode=f"BR-{n}", branch=branch)
        await copies.create_copy(copies.CreateCopy(book.id, details), uow=catalog_uow(), clock=CLOCK)
    return book.id


async def _barcodes(catalog_uow, book_id: uuid.UUID, text: str) -> list[str]:
    page = await copies.list_copies(copies.ListCopies(book_id, filter=text), uow=catalog_uow.reads())
    return [c.details.barcode for c in page.items]


async def test_the_branch_filter_matches_a_code_whatever_its_case_and_spaces(catalog_uow) -> None:
    book_id = await _copies_at(catalog_uow, "east", "MAIN", "EAST")
    async with catalog_uow.engine.begin() as connection:  # as a copy was kept before codes were trimmed
        await connection.execute(
            sa.update(copies_table).where(copies_table.c.barcode == "BR-2").values(branch=" EAST ")
        )
    for text in ('branch = "EAST"', 'branch = " east "', "branch = East"):
        assert await _barcodes(catalog_uow, book_id, text) == ["BR-0", "BR-2"], text
    assert await _barcodes(catalog_uow, book_id, 'branch != "east"') == ["BR-1"]


async def test_a_hold_prefers_a_copy_at_its_branch_whatever_the_case_it_was_catalogued_in(catalog_uow) -> None:
    book_id = await _copies_at(catalog_uow, "MAIN", "east")
    command = circulation.ReserveCopy(book_id, hold=f"holds/{uuid.uuid4()}", branch="EAST")
    reserved = await circulation.reserve_copy(command, uow=catalog_uow.circulation(), clock=CLOCK)
    assert reserved.details.barcode == "BR-1"


async def test_a_library_that_lists_its_branches_sets_aside_no_copy_at_a_branch_it_does_not_list(catalog_uow) -> None:
    # Upgrade: copies catalogued at OLD before the list MAIN, EAST was set; the hold asks for OLD's copy first.
    book_id = await _copies_at(catalog_uow, "OLD", "OLD", " east ", "")
    listed = LibraryBranches.parse("MAIN,EAST")

    async def reserve(branches: LibraryBranches = ANY_BRANCH) -> str:
        command = circulation.ReserveCopy(book_id, hold=f"holds/{uuid.uuid4()}", branch="OLD")
        uow = catalog_uow.circulation()
        return (await circulation.reserve_copy(command, uow=uow, clock=CLOCK, branches=branches)).details.barcode

    assert await reserve(listed) == "BR-2"  # the copy at EAST, whatever its spelling, not the first at OLD
    assert await reserve(listed) == "BR-3"  # a copy that names no branch is not refused by the list either
    with pytest.raises(NoCopyAvailable):  # the copies at OLD stay on the shelf there: the hold waits
        await reserve(listed)
    assert await reserve() == "BR-0"  # a library that lists none takes any copy, as before
