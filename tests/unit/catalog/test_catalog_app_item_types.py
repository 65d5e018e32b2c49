"""The admins' item type use cases on the in-memory catalog."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.app import item_types
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemTypeChanged
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.catalog.fakes import FakeCatalog

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


async def _create(catalog: FakeCatalog, code: str, *, not_for_loan: bool = False, request_id=None):
    command = item_types.CreateItemType(code, f"{code} things", not_for_loan, request_id)
    return await item_types.create_item_type(command, uow=catalog(), clock=CLOCK)


async def test_an_item_type_is_created_listed_and_read_by_its_code() -> None:
    catalog = FakeCatalog()
    created = await _create(catalog, "dvd")
    assert (await item_types.get_item_type("DVD", uow=catalog())).description == "dvd things"
    page = await item_types.list_item_types(item_types.ListItemTypes(), uow=catalog())
    assert [k.code for k in page.items] == ["BOOK", "DVD"] and page.total_size == 2
    assert [type(e) for e in catalog.events()] == [ItemTypeChanged] and created.name == "itemTypes/DVD"


async def test_a_code_taken_is_refused_and_a_repeated_request_gets_the_first_answer() -> None:
    catalog, request_id = FakeCatalog(), uuid.uuid4()
    await _create(catalog, "DVD", request_id=request_id)
    assert (await _create(catalog, "DVD", request_id=request_id)).code == "DVD"
    with pytest.raises(AlreadyExists) as taken:
        await _create(catalog, "dvd")
    assert taken.value.reason == "ITEM_TYPE_EXISTS"


async def test_the_list_pages_by_code() -> None:
    catalog = FakeCatalog()
    for code in ("C", "A", "D"):
        await _create(catalog, code)
    first = await item_types.list_item_types(item_types.ListItemTypes(page_size=2), uow=catalog())
    rest = await item_types.list_item_types(item_types.ListItemTypes(2, first.next_page_token), uow=catalog())
    assert [k.code for k in first.items + rest.items] == ["A", "BOOK", "C", "D"] and rest.next_page_token == ""


async def test_an_update_changes_the_fields_of_the_mask_and_checks_the_etag() -> None:
    catalog = FakeCatalog()
    kind = await _create(catalog, "REF")
    update = item_types.UpdateItemType("REF", "", True, ("not_for_loan",), etag=kind.etag)
    revised = await item_types.update_item_type(update, uow=catalog(), clock=CLOCK)
    assert revised.not_for_loan and revised.description == "REF things" and revised.etag != kind.etag
    with pytest.raises(Conflict):
        await item_types.update_item_type(update, uow=catalog(), clock=CLOCK)  # the etag read before
    with pytest.raises(InvalidArgument):
        bad = item_types.UpdateItemType("REF", "", False, ("code",))
        await item_types.update_item_type(bad, uow=catalog(), clock=CLOCK)


async def test_a_type_in_use_is_not_deleted_and_one_unused_is() -> None:
    catalog = FakeCatalog()
    kind = await _create(catalog, "DVD")
    book = Book.register(BookDetails(title="Solaris"), now=NOW)
    catalog.state.books[book.id] = book
    for n in range(2):
        copy = Copy.register(book.id, CopyDetails(f"D-{n}", item_type="DVD"), now=NOW, status=CopyStatus.AVAILABLE)
        catalog.state.copies[copy.id] = copy
    with pytest.raises(FailedPrecondition) as in_use:
        await item_types.delete_item_type(item_types.DeleteItemType("DVD"), uow=catalog(), clock=CLOCK)
    assert in_use.value.reason == "ITEM_TYPE_IN_USE" and "2 copies" in in_use.value.message
    catalog.state.copies.clear()
    await item_types.delete_item_type(item_types.DeleteItemType("DVD", kind.etag), uow=catalog(), clock=CLOCK)
    with pytest.raises(NotFound):
        await item_types.get_item_type("DVD", uow=catalog())
    assert [e.deleted for e in catalog.events(ItemTypeChanged)] == [False, True]
