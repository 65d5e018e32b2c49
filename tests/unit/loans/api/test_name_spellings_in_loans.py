"""A patron's or a book's id in upper case is the same patron or book: the reader may act, and the answer and
what is stored name them canonically."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.loans.api.servicer import LoansServicer
from services.loans.app.reconciling import ReconcilePolicy
from services.loans.domain.borrowing import BorrowingPolicy
from services.support.runtime.identity import Identity, Role, set_current_identity

from ..desk import CURRENCY, Desk
from ..fakes import FakeLoansDatabase

READER = f"users/{uuid.uuid4()}"
CONTEXT: Any = None


def _servicer(db: FakeLoansDatabase, desk: Desk) -> LoansServicer:
    return LoansServicer(
        uow=db.unit_of_work, clock=desk.clock, users=desk.users, catalog=desk.catalog,
        borrowing=BorrowingPolicy(), currency=CURRENCY, reconcile=ReconcilePolicy(),
    )  # fmt: skip


def _upper_id(name: str) -> str:
    collection, _, raw = name.partition("/")
    return f"{collection}/{raw.upper()}"


async def test_a_reader_places_a_hold_naming_themself_and_the_book_in_upper_case(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    book, _ = desk.catalog.add_book()
    expires = datetime.now(UTC) + timedelta(minutes=5)
    set_current_identity(Identity(subject=READER, role=Role.READER, session_id="s1", expires_at=expires))
    try:
        servicer = _servicer(db, desk)
        spelled = resources_pb2.Hold(patron=_upper_id(READER), book=_upper_id(book))
        request = loans_pb2.PlaceHoldRequest(hold=spelled)
        hold = await servicer.PlaceHold(request, CONTEXT)  # a reader acting for "another patron" before
        assert (hold.patron, hold.book) == (READER, book)
        listed = await servicer.ListHolds(loans_pb2.ListHoldsRequest(parent=READER), CONTEXT)
        assert [h.name for h in listed.holds] == [hold.name]
    finally:
        set_current_identity(None)
