"""Returning with fakes: the copy goes back (or onto the hold shelf), a late return is fined, retries are
answered, a second return is refused."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from services.loans.app.holding import PlaceHold
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.domain.fines import Fine, FineKind
from services.loans.domain.hold_record import HoldStatus
from services.loans.domain.loan_events import LoanReturned
from services.loans.domain.loan_record import LoanStatus
from services.loans.domain.loans import Loan
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from ..desk import DESK, Crash, Desk, crash_after_check_in, reader
from ..fakes import FakeLoansDatabase, Transaction

DAY = timedelta(days=1)


async def lend(desk: Desk, patron: str = "users/p1") -> tuple[Loan, str]:
    book, (copy,) = desk.catalog.add_book()
    return await desk.issue(IssueLoan(patron, book=book, actor=DESK)), copy


async def test_a_return_by_barcode_closes_the_loan_and_frees_the_copy(db: FakeLoansDatabase, desk: Desk) -> None:
    loan, copy = await lend(desk)
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert returned.id == loan.id and returned.status == LoanStatus.RETURNED and returned.returned_at is not None
    assert desk.catalog.status(copy) == "AVAILABLE" and db.fines == {}
    assert db.event_types() == ["LoanIssued", "LoanReturned"]


async def test_a_barcode_scanned_in_another_letter_case_names_the_loans_copy(desk: Desk) -> None:
    """The catalog matches barcodes whatever their case, so does a return: by barcode, and beside a name."""
    first, copy = await lend(desk)
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy).lower(), actor=DESK))
    assert returned.id == first.id and returned.status == LoanStatus.RETURNED
    second, copy = await lend(desk)
    scanned = desk.catalog.barcode(copy).lower()
    returned = await desk.return_loan(ReturnLoan(loan_id=second.id, barcode=scanned, actor=DESK))
    assert returned.id == second.id and returned.status == LoanStatus.RETURNED


async def test_the_due_day_is_free_and_each_day_after_it_is_fined(db: FakeLoansDatabase, desk: Desk) -> None:
    """A loan is due at the end of its last day: back that evening, it is in time; back the next morning, it is
    a day late (due to the second of the issue, it was "overdue" the same evening yet fined for no day)."""
    db.set_default_rule(loan_period_days=7, fine_per_day=Decimal("0.30"))
    on_time, _ = await lend(desk)
    late, _ = await lend(desk, "users/p2")
    desk.clock.advance(7 * DAY + timedelta(hours=11))  # 20:00 on the due day (issued at 09:00)
    back = await desk.return_loan(ReturnLoan(loan_id=on_time.id, actor=DESK))
    assert back.status == LoanStatus.RETURNED and db.fines == {}
    desk.clock.advance(timedelta(hours=12))  # 08:00 the day after
    await desk.return_loan(ReturnLoan(loan_id=late.id, actor=DESK))
    (fine,) = db.fines.values()
    assert fine.amount == Decimal("0.30") and fine.loan == late.name


async def test_a_late_return_assesses_the_overdue_fine_and_carries_it_on_the_event(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    db.set_default_rule(loan_period_days=7, fine_per_day=Decimal("0.30"), grace_days=2, fine_cap=Decimal("2.00"))
    loan, _ = await lend(desk)
    desk.clock.advance(12 * DAY)  # 5 days late, 2 of grace: 3 chargeable days
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    (fine,) = db.fines.values()
    assert fine.amount == Decimal("0.90") and fine.loan == loan.name and fine.description == "overdue: Dead Souls"
    assert db.event_types()[-2:] == ["LoanReturned", "FineAssessed"]
    returned = db.events[-2]
    assert isinstance(returned, LoanReturned) and returned.fine is not None and returned.fine.id == fine.id
    assert db.events[-1].book == loan.book and loan.book  # the notice names the book by it


async def test_a_retried_return_is_answered_and_a_second_one_refused(db: FakeLoansDatabase, desk: Desk) -> None:
    loan, _ = await lend(desk)
    request_id = uuid.uuid4()
    await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=request_id, actor=DESK))
    again = await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=request_id, actor=DESK))
    assert again.id == loan.id and db.event_types().count("LoanReturned") == 1
    with pytest.raises(FailedPrecondition) as twice:
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert twice.value.reason == "LOAN_ALREADY_RETURNED"


async def test_a_returned_copy_waits_on_the_hold_shelf_for_the_next_in_the_queue(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await lend(desk)
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, actor=DESK))
    assert hold.status == HoldStatus.WAITING
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert db.holds[hold.id].status == HoldStatus.READY and db.holds[hold.id].copy == copy
    assert desk.catalog.copies[copy].current_hold == hold.name


async def test_only_staff_take_returns_of_a_loan_they_name(desk: Desk) -> None:
    loan, _ = await lend(desk)
    with pytest.raises(PermissionDenied):
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=reader("users/p1")))
    with pytest.raises(InvalidArgument):
        await desk.return_loan(ReturnLoan(actor=DESK))
    with pytest.raises(NotFound):
        await desk.return_loan(ReturnLoan(barcode="NO-SUCH", actor=DESK))


async def test_a_barcode_with_no_loan_out_says_whether_no_copy_has_it_or_the_copy_is_not_on_loan(desk: Desk) -> None:
    """Both answered NOT_FOUND "loans/-?barcode=… not found": the desk could not tell a misread label from a
    second scan of a book already back."""
    loan, copy = await lend(desk)
    barcode = desk.catalog.barcode(copy)
    with pytest.raises(NotFound, match="no copy has barcode NO-SUCH"):
        await desk.return_loan(ReturnLoan(barcode="NO-SUCH", actor=DESK))
    returned = await desk.return_loan(ReturnLoan(barcode=f"  {barcode} ", actor=DESK))  # a scanner's spaces
    assert returned.id == loan.id and returned.status == LoanStatus.RETURNED
    with pytest.raises(FailedPrecondition) as again:
        await desk.return_loan(ReturnLoan(barcode=barcode, actor=DESK))
    assert again.value.reason == "COPY_NOT_ON_LOAN" and "available" in again.value.message


async def test_a_return_by_name_with_another_copy_s_barcode_is_refused_and_neither_loan_changes(desk: Desk) -> None:
    """The desk scanned one item while another loan was open: the named loan was returned, the scanned not."""
    named, _ = await lend(desk)
    _, scanned = await lend(desk, patron="users/p2")
    with pytest.raises(InvalidArgument, match="barcode"):
        await desk.return_loan(ReturnLoan(loan_id=named.id, barcode=desk.catalog.barcode(scanned), actor=DESK))
    assert (await desk.return_loan(ReturnLoan(loan_id=named.id, actor=DESK))).status == LoanStatus.RETURNED


async def test_staff_lend_to_users_me_as_themselves(desk: Desk) -> None:
    """ "users/me" reached the users service as a name, which refused it under the field "users/me"."""
    book, _ = desk.catalog.add_book()
    loan = await desk.issue(IssueLoan("users/me", book=book, actor=DESK))
    assert loan.patron == DESK.user


async def test_a_return_is_noted_on_the_loan_before_the_catalog_is_asked(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    loan, copy = await lend(desk)
    crash_after_check_in(desk.catalog, monkeypatch)
    with pytest.raises(Crash):
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    stuck = db.loans[loan.id]
    assert stuck.status == LoanStatus.ACTIVE and stuck.return_started_at == desk.clock.now()
    assert desk.catalog.status(copy) == "AVAILABLE"


async def test_the_next_issue_of_a_copy_whose_return_was_interrupted_finishes_that_return(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.set_default_rule(loan_period_days=7, fine_per_day=Decimal("1.00"))
    loan, copy = await lend(desk)
    desk.clock.advance(9 * DAY)  # 2 days late when handed in
    handed_in = desk.clock.now()
    crash_after_check_in(desk.catalog, monkeypatch)
    with pytest.raises(Crash):
        await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    monkeypatch.undo()
    desk.clock.advance(3 * DAY)
    lent = await desk.issue(IssueLoan("users/p2", book=loan.book, actor=DESK))
    assert lent.status == LoanStatus.ACTIVE and lent.copy == copy
    finished = db.loans[loan.id]
    assert finished.status == LoanStatus.RETURNED and finished.returned_at == handed_in
    (fine,) = db.fines.values()
    assert fine.amount == Decimal("2.00")  # fined to the day it was handed in, not to the day it was noticed
    assert db.event_types().count("LoanReturned") == 1


async def test_a_retried_return_closes_the_loan_when_the_copy_was_lent_again_meanwhile(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first try's check-in went through and its answer was lost; the catalog lent the copy again before
    the desk retried: the copy came back from this loan, so the retry closes it (as the reconciler would)."""
    loan, copy = await lend(desk)
    request_id = uuid.uuid4()
    crash_after_check_in(desk.catalog, monkeypatch)
    with pytest.raises(Crash):
        await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=request_id, actor=DESK))
    monkeypatch.undo()
    await desk.catalog.check_out(selector=("copy", copy), loan="loans/lent-again", hold="")
    returned = await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=request_id, actor=DESK))
    assert returned.status == LoanStatus.RETURNED and db.loans[loan.id].status == LoanStatus.RETURNED
    assert desk.catalog.copies[copy].current_loan == "loans/lent-again"  # the catalog's loan is left alone
    assert db.event_types().count("LoanReturned") == 1


async def test_a_copy_on_an_active_loan_nobody_began_to_return_is_still_refused(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, copy = await lend(desk)
    desk.catalog._set(desk.catalog.copies[copy], status="AVAILABLE", current_loan="")  # the catalog drifted
    with pytest.raises(FailedPrecondition) as refused:
        await desk.issue(IssueLoan("users/p2", book=loan.book, actor=DESK))
    assert refused.value.reason == "COPY_ALREADY_ON_LOAN" and db.loans[loan.id].status == LoanStatus.ACTIVE


async def test_a_return_whose_close_loses_a_race_for_the_hold_is_closed_on_a_second_try(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Returns at once to one queue race for its head hold; the loser's close is repeated in the use case
    (the runtime no longer repeats the call: the return's note was committed before the catalog step)."""
    loan, copy = await lend(desk)
    hold = await desk.place_hold(PlaceHold("users/p2", loan.book, actor=DESK))
    check_version, lost = Transaction.check_version, []

    def loses_once(self: Transaction, table: str, aggregate: object, *, seen: int) -> None:
        if table == "holds" and not lost:
            lost.append(aggregate)
            raise Conflict("changed concurrently", reason=CONCURRENT_UPDATE)
        check_version(self, table, aggregate, seen=seen)

    monkeypatch.setattr(Transaction, "check_version", loses_once)
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert lost and returned.status == LoanStatus.RETURNED
    assert db.holds[hold.id].status == HoldStatus.READY and db.holds[hold.id].copy == copy


async def test_a_return_with_nothing_to_settle_closes_its_loan_in_one_write_with_its_request(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    loan, _ = await lend(desk)
    request_id, writes = uuid.uuid4(), db.single_writes
    await desk.return_loan(ReturnLoan(loan_id=loan.id, request_id=request_id, actor=DESK))
    assert db.single_writes - writes == 2  # the note, then the close with its event and the request's record
    assert db.requests[request_id] == ("ReturnLoan", loan.name) and db.event_types()[-1] == "LoanReturned"


async def test_a_loan_with_an_overdue_fine_recorded_is_closed_in_a_transaction_that_carries_the_fine(
    db: FakeLoansDatabase, desk: Desk
) -> None:
    """Fined while it was late, then given a later due date: the close finds the fine, as the event must."""
    loan, _ = await lend(desk)
    fine = Fine.assess(
        patron=loan.patron, kind=FineKind.OVERDUE, amount=Decimal("0.60"), currency="EUR",
        now=desk.clock.now(), actor="system", loan=loan.name,
    )  # fmt: skip
    db.fines[fine.id] = fine
    writes = db.single_writes
    await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    assert db.single_writes - writes == 1  # the note only
    returned = db.events[-1]
    assert isinstance(returned, LoanReturned) and returned.fine is not None and returned.fine.id == fine.id


async def test_a_loan_changed_between_the_note_and_the_close_is_read_again_and_closed(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    loan, copy = await lend(desk)
    checked_in = desk.catalog.check_in

    async def changed_meanwhile(**step: str) -> object:
        answer = await checked_in(**step)
        db.loans[loan.id].version += 1  # e.g. a reminder pass wrote to it
        return answer

    monkeypatch.setattr(desk.catalog, "check_in", changed_meanwhile)
    returned = await desk.return_loan(ReturnLoan(barcode=desk.catalog.barcode(copy), actor=DESK))
    assert returned.status == LoanStatus.RETURNED and db.loans[loan.id].status == LoanStatus.RETURNED
    assert db.event_types().count("LoanReturned") == 1
