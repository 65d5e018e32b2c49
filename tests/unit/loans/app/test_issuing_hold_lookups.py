"""An issue looks for the patron's hold on the title only when their standing, read under their lock, counts a
hold of theirs: most patrons have none, and the look-up was a statement of every issue. Whatever it skips, a
hold of theirs on the title is still filled by the loan and a hold on another title is left as it was."""

from __future__ import annotations

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.domain.borrowing import CopyInfo
from services.loans.domain.hold_record import HoldStatus

from ..desk import DESK, Desk
from ..fakes import FakeHoldRepository, FakeLoansDatabase  # wherever the fake lives, the one the fakes use


@pytest.fixture
def looks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (patron, book) pairs whose active hold the use cases looked for."""
    looked: list[tuple[str, str]] = []
    active_for = FakeHoldRepository.active_for

    async def noted(self: FakeHoldRepository, patron: str, book: str):  # type: ignore[no-untyped-def]
        looked.append((patron, book))
        return await active_for(self, patron, book)

    monkeypatch.setattr(FakeHoldRepository, "active_for", noted)
    return looked


@pytest.mark.parametrize("by", ["barcode", "book"])
async def test_an_issue_to_a_patron_without_holds_looks_for_none(
    desk: Desk, looks: list[tuple[str, str]], by: str
) -> None:
    book, (copy,) = desk.catalog.add_book()
    item = {"barcode": desk.catalog.barcode(copy)} if by == "barcode" else {"book": book}
    loan = await desk.issue(IssueLoan("users/p1", **item, actor=DESK))
    assert loan.copy == copy and looks == []


@pytest.mark.parametrize("by", ["barcode", "book"])
async def test_an_issue_of_a_title_the_patron_waits_for_still_fills_their_hold(
    db: FakeLoansDatabase, desk: Desk, looks: list[tuple[str, str]], by: str
) -> None:
    book, (first_copy,) = desk.catalog.add_book()
    await desk.issue(IssueLoan("users/p2", barcode=desk.catalog.barcode(first_copy), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p1", book, actor=DESK))
    assert hold.status == HoldStatus.WAITING
    new_copy = f"{book}/copies/new"
    desk.catalog.copies[new_copy] = CopyInfo(new_copy, book, "NEW-1", "BOOK", "AVAILABLE")  # not trapped yet
    item = {"barcode": "NEW-1"} if by == "barcode" else {"book": book}
    looks.clear()  # placing the hold looked for one already
    loan = await desk.issue(IssueLoan("users/p1", **item, actor=DESK))
    filled = db.holds[hold.id]
    assert (filled.status, filled.loan) == (HoldStatus.FULFILLED, loan.name)
    # Once, under the lock at activation: a WAITING hold has no copy set aside to look for before the check-out.
    assert looks == [("users/p1", book)]


async def test_a_hold_on_another_title_is_looked_for_and_left_waiting(
    db: FakeLoansDatabase, desk: Desk, looks: list[tuple[str, str]]
) -> None:
    other, (other_copy,) = desk.catalog.add_book()
    await desk.issue(IssueLoan("users/p2", barcode=desk.catalog.barcode(other_copy), actor=DESK))
    hold = await desk.place_hold(PlaceHold("users/p1", other, actor=DESK))
    book, (copy,) = desk.catalog.add_book()
    looks.clear()  # placing the hold looked for one already
    await desk.issue(IssueLoan("users/p1", barcode=desk.catalog.barcode(copy), actor=DESK))
    assert looks == [("users/p1", book)] and db.holds[hold.id].status == HoldStatus.WAITING
