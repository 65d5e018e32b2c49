"""Finding D14: a copy on the hold shelf issued to the wrong reader was refused with COPY_NOT_AVAILABLE and no
more than {"peer": "catalog"}: the desk could not say it is held, for whom and until when."""

from __future__ import annotations

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.support.runtime.errors import FailedPrecondition

from ..desk import DESK, Desk


async def test_a_hold_shelf_copy_issued_to_another_reader_says_whose_hold_it_is_and_until_when(desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book()
    hold = await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="MAIN", actor=DESK))
    ready = await desk.receive(copy, branch="MAIN")
    assert ready.expire_at is not None
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p2", barcode=desk.catalog.barcode(copy), actor=DESK))
    said = refused.value.metadata
    assert refused.value.reason == "COPY_NOT_AVAILABLE"
    assert (said["copy"], said["status"]) == (copy, "ON_HOLD_SHELF")
    assert (said["hold"], said["hold_status"]) == (hold.name, "READY")
    assert (said["patron"], said["pickup_branch"]) == ("users/p1", "MAIN")
    assert said["expire_time"] == ready.expire_at.isoformat()


async def test_a_copy_on_loan_issued_again_says_its_status_and_no_hold(desk: Desk) -> None:
    _, (copy,) = desk.catalog.add_book()
    barcode = desk.catalog.barcode(copy)
    await desk.issue(IssueLoan("users/p1", barcode=barcode, actor=DESK))
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p2", barcode=barcode, actor=DESK))
    assert refused.value.metadata["status"] == "ON_LOAN" and "hold" not in refused.value.metadata
