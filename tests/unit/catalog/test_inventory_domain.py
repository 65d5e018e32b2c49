"""Copy circulation rules, without I/O."""

import ast
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.catalog.domain import Book, BookDetails, BookUpdated, CopyStatus, update_paths
from services.catalog.inventory import Copy, CopyDetails, CopyStatusChanged
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _copy(status: CopyStatus = CopyStatus.AVAILABLE) -> Copy:
    copy = Copy.register(uuid.uuid4(), CopyDetails(barcode=" B-1 ", item_type="dvd"), now=NOW, status=status)
    copy.events.clear()
    return copy


def test_a_new_copy_is_cleaned_and_circulation_statuses_are_refused() -> None:
    copy = _copy()
    assert (copy.details.barcode, copy.details.item_type) == ("B-1", "DVD")
    with pytest.raises(InvalidArgument):
        Copy.register(uuid.uuid4(), CopyDetails(barcode="B"), now=NOW, status=CopyStatus.ON_LOAN)
    with pytest.raises(InvalidArgument):
        Copy.register(uuid.uuid4(), CopyDetails(barcode="has space"), now=NOW, status=CopyStatus.AVAILABLE)


def test_checking_out_twice_for_the_same_loan_changes_nothing_the_second_time() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    version = copy.version
    copy.check_out("loans/1", now=NOW)
    assert (copy.status, copy.current_loan, copy.version) == (CopyStatus.ON_LOAN, "loans/1", version)
    assert [type(e) for e in copy.events] == [CopyStatusChanged]
    with pytest.raises(FailedPrecondition):
        copy.check_out("loans/2", now=NOW)


def test_check_in_ends_only_its_own_loan_and_can_go_to_the_hold_shelf() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.check_in("loans/2", now=NOW)
    copy.check_in("loans/1", hold="holds/9", now=NOW)
    assert (copy.status, copy.current_loan, copy.current_hold) == (CopyStatus.ON_HOLD_SHELF, "", "holds/9")
    copy.check_in("loans/1", now=NOW)  # a repeat is a no-op
    assert copy.status == CopyStatus.ON_HOLD_SHELF


def test_a_held_copy_is_lent_only_for_its_hold_and_released_only_by_it() -> None:
    copy = _copy()
    copy.reserve("holds/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.check_out("loans/1", hold="holds/2", now=NOW)
    with pytest.raises(FailedPrecondition):
        copy.release("holds/2", now=NOW)
    copy.release("holds/1", now=NOW)
    copy.release("holds/1", now=NOW)
    assert copy.status == CopyStatus.AVAILABLE


def test_status_events_carry_the_availability_settled_after_the_change() -> None:
    copy = _copy()
    copy.check_out("loans/1", now=NOW)
    copy.settle_availability(3)
    (event,) = copy.events
    assert (event.previous, event.status, event.loan, event.available_copies) == (
        CopyStatus.AVAILABLE, CopyStatus.ON_LOAN, "loans/1", 3,
    )  # fmt: skip


def test_cataloguers_cannot_move_a_copy_out_of_circulation_or_into_it() -> None:
    lent = _copy()
    lent.check_out("loans/1", now=NOW)
    with pytest.raises(FailedPrecondition):
        lent.revise(lent.details, CopyStatus.LOST, ("status",), now=NOW)
    with pytest.raises(FailedPrecondition):
        lent.remove(now=NOW)
    with pytest.raises(InvalidArgument):
        _copy().revise(lent.details, CopyStatus.ON_HOLD_SHELF, ("status",), now=NOW)


def test_a_stale_etag_is_a_conflict() -> None:
    copy = _copy()
    copy.check_etag(copy.etag)
    with pytest.raises(Conflict):
        copy.check_etag('W/"0"')


def test_revising_a_book_records_only_the_fields_that_changed() -> None:
    book = Book.register(BookDetails(title="Dead Souls", language="ru"), now=NOW)
    book.events.clear()
    book.revise(BookDetails(title="Dead Souls", subtitle="A Poem"), ("title", "subtitle"), now=NOW)
    (event,) = book.events
    assert isinstance(event, BookUpdated) and event.changed == ("subtitle",)
    assert (book.version, book.details.language) == (2, "ru")
    book.revise(BookDetails(title="Dead Souls"), ("title",), now=NOW)
    assert book.version == 2  # nothing changed, nothing recorded


@pytest.mark.parametrize(("mask", "error"), [(["name"], "output only"), (["colour"], "unknown field")])
def test_a_mask_naming_an_output_only_or_unknown_field_is_refused(mask: list[str], error: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        update_paths(mask, sent=BookDetails(title="x"), writable=("title",), output_only=("name",))
    assert caught.value.violations[0].field == "update_mask" and error in caught.value.message


def test_no_mask_means_the_fields_sent() -> None:
    sent = BookDetails(title="x", publication_year=1999)
    assert update_paths([], sent=sent, writable=("title", "isbn", "publication_year"), output_only=()) == (
        "title", "publication_year",
    )  # fmt: skip


def test_the_inventory_module_imports_no_infrastructure() -> None:
    module = Path(__file__).resolve().parents[3] / "services" / "catalog" / "inventory.py"
    roots = {
        (node.module or "").split(".")[0]
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.ImportFrom)
    } | {
        a.name.split(".")[0]
        for n in ast.walk(ast.parse(module.read_text()))
        if isinstance(n, ast.Import)
        for a in n.names
    }
    assert not roots & {"grpc", "sqlalchemy", "nats", "asyncpg", "athenaeum", "google"}
