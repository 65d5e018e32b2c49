"""Item types seeded by catalog migration 0010 from old copies, whose codes break today's rule ("LARGE PRINT",
"DVD/CD", "КНИГА"): an admin reads, changes, renames and deletes them by the name ListItemTypes gives."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.app import copies, item_types
from services.catalog.domain.books import Book, BookDetails
from services.catalog.domain.copies import Copy, CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemType, ItemTypeChanged, parse_item_type_name
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from tests.unit.catalog.fakes import FakeCatalog

SEEDED = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)
BOOK_IN_RUSSIAN = "\u041a\u041d\u0418\u0413\u0410"


def _upgraded(*codes: str, copies_each: int = 2) -> FakeCatalog:
    """A catalog as migration 0010 leaves old data: each code seeded (described by itself), with its copies."""
    catalog = FakeCatalog()
    book = Book.register(BookDetails(title="Solaris"), now=SEEDED)
    catalog.state.books[book.id] = book
    for number, code in enumerate(codes):
        catalog.state.item_types[code] = ItemType(code, code, False, created_at=SEEDED, updated_at=SEEDED)
        for n in range(copies_each):
            details = CopyDetails(f"T{number}-{n}", item_type=code)
            copy = Copy.register(book.id, details, now=SEEDED, status=CopyStatus.AVAILABLE)
            catalog.state.copies[copy.id] = copy
    return catalog


def _types_of_copies(catalog: FakeCatalog) -> list[str]:
    return sorted(copy.details.item_type for copy in catalog.state.copies.values())


async def _listed(catalog: FakeCatalog) -> dict[str, str]:
    page = await item_types.list_item_types(item_types.ListItemTypes(), uow=catalog())
    return {kind.code: kind.name for kind in page.items}


@pytest.mark.parametrize("code", ["LARGE PRINT", "DVD/CD", "AUDIOBOOK_ON_CASSETTE_TAPE", BOOK_IN_RUSSIAN])
async def test_a_seeded_type_whose_code_breaks_the_rule_is_read_and_made_not_for_loan_by_its_listed_name(
    code: str,
) -> None:
    """GET and PATCH itemTypes/LARGE%20PRINT answered 400: the type could not be marked not for loan."""
    catalog = _upgraded(code)
    code_of = parse_item_type_name((await _listed(catalog))[code])
    assert (await item_types.get_item_type(code_of, uow=catalog())).code == code
    update = item_types.UpdateItemType(code_of, "Large print books", True, ("description", "not_for_loan"))
    revised = await item_types.update_item_type(update, uow=catalog(), clock=CLOCK)
    assert (revised.code, revised.description, revised.not_for_loan) == (code, "Large print books", True)


async def test_a_seeded_type_no_copy_has_any_more_is_deleted_by_its_listed_name() -> None:
    catalog = _upgraded("DVD/CD", copies_each=0)
    code = parse_item_type_name((await _listed(catalog))["DVD/CD"])
    await item_types.delete_item_type(item_types.DeleteItemType(code), uow=catalog(), clock=CLOCK)
    assert "DVD/CD" not in await _listed(catalog)


async def test_a_rename_re_spells_the_code_and_moves_every_copy_with_it_in_one_step() -> None:
    catalog = _upgraded("LARGE PRINT", "BOOK")
    catalog.state.item_types["LARGE PRINT"].not_for_loan = True
    before = {copy.id: copy.etag for copy in catalog.state.copies.values()}
    rename = item_types.RenameItemType("LARGE PRINT", "large_print", request_id=uuid.uuid4())
    renamed = await item_types.rename_item_type(rename, uow=catalog(), clock=CLOCK)
    assert (renamed.code, renamed.name, renamed.not_for_loan) == ("LARGE_PRINT", "itemTypes/LARGE_PRINT", True)
    assert await _listed(catalog) == {"BOOK": "itemTypes/BOOK", "LARGE_PRINT": "itemTypes/LARGE_PRINT"}
    assert _types_of_copies(catalog) == ["BOOK", "BOOK", "LARGE_PRINT", "LARGE_PRINT"]
    moved = [c for c in catalog.state.copies.values() if c.details.item_type == "LARGE_PRINT"]
    assert all(copy.etag != before[copy.id] and copy.updated_at == NOW for copy in moved)
    (event,) = catalog.events(ItemTypeChanged)  # the audit trail: code LARGE PRINT -> LARGE_PRINT
    assert isinstance(event, ItemTypeChanged) and event.changed == ("code",)
    assert event.previous is not None and event.previous.code == "LARGE PRINT"
    again = await item_types.rename_item_type(rename, uow=catalog(), clock=CLOCK)  # a retry: the first answer
    assert again.code == "LARGE_PRINT" and len(catalog.events(ItemTypeChanged)) == 1


async def test_a_rename_to_a_code_taken_or_outside_the_rule_or_with_a_stale_etag_changes_nothing() -> None:
    catalog = _upgraded("DVD/CD", "DVD")
    for new_code, refusal in (("DVD", AlreadyExists), ("DVD CD", InvalidArgument), ("DVD/CD", InvalidArgument)):
        with pytest.raises(refusal):
            await item_types.rename_item_type(item_types.RenameItemType("DVD/CD", new_code), uow=catalog(), clock=CLOCK)
    with pytest.raises(Conflict):
        stale = item_types.RenameItemType("DVD/CD", "DVD-CD", etag='W/"7"')
        await item_types.rename_item_type(stale, uow=catalog(), clock=CLOCK)
    with pytest.raises(NotFound):
        await item_types.rename_item_type(item_types.RenameItemType("NONE", "DVD-CD"), uow=catalog(), clock=CLOCK)
    assert set(await _listed(catalog)) == {"BOOK", "DVD", "DVD/CD"} and catalog.events() == []
    assert _types_of_copies(catalog) == ["DVD", "DVD", "DVD/CD", "DVD/CD"]


async def test_new_types_keep_to_the_rule_and_copies_may_still_take_a_seeded_code() -> None:
    catalog = _upgraded("LARGE PRINT")
    with pytest.raises(InvalidArgument):
        await item_types.create_item_type(item_types.CreateItemType("LARGE PRINT 2", "x"), uow=catalog(), clock=CLOCK)
    book_id = next(iter(catalog.state.books))
    command = copies.CreateCopy(book_id, CopyDetails(barcode="LP-NEW", item_type=" large print "))
    assert (await copies.create_copy(command, uow=catalog(), clock=CLOCK)).details.item_type == "LARGE PRINT"
