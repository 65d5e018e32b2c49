"""Item types in the domain: what a code and a description may be, and what a change records."""

import string
from datetime import UTC, datetime

import pytest

from services.catalog.domain.item_types import (
    ItemType,
    ItemTypeChanged,
    ItemTypeInUse,
    UnknownItemType,
    parse_item_type_name,
)
from services.support.runtime.errors import InvalidArgument

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def test_a_code_given_in_any_case_is_kept_upper_case_and_named_by_it() -> None:
    kind = ItemType.create(" dvd_2-a ", " Films on disc ", not_for_loan=False, now=NOW)
    assert (kind.code, kind.name, kind.description) == ("DVD_2-A", "itemTypes/DVD_2-A", "Films on disc")
    assert [type(e) for e in kind.events] == [ItemTypeChanged]


@pytest.mark.parametrize("code", ["", "BOOK SHELF", "A" * 21, "BÜCHER", "BOOK.2", "REF/1"])
def test_a_code_outside_a_to_z_digits_underscore_and_dash_or_too_long_is_refused(code: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        ItemType.create(code, "Something", not_for_loan=False, now=NOW)
    assert [v.field for v in refused.value.violations] == ["item_type.code"]


FOLDED_BY_UPPER = [
    ("\u00df", "SS"),
    ("\u0131", "I"),
    ("\u017f", "S"),
    ("d\u0131sk", "DISK"),
    ("stra\u00dfe", "STRASSE"),
]
"""Letters that Python's str.upper turns into other, ASCII letters: sharp s, dotless i, long s."""


@pytest.mark.parametrize(("code", "folded"), FOLDED_BY_UPPER)
def test_a_code_with_a_letter_upper_case_would_fold_into_ascii_is_refused_not_turned_into_another_code(
    code: str, folded: str
) -> None:
    """ "\u00df" was kept as the type SS: a look-alike landed quietly on another type."""
    assert code.upper() == folded
    with pytest.raises(InvalidArgument) as refused:
        ItemType.create(code, "Something", not_for_loan=False, now=NOW)
    assert [v.field for v in refused.value.violations] == ["item_type.code"]
    assert parse_item_type_name(f"itemTypes/{code}") == code.translate(ASCII_UPPER)  # looked up as typed


@pytest.mark.parametrize("description", ["", "   ", "x" * 101, "Reference\x00", "two\nlines", "bell\x07"])
def test_a_description_empty_too_long_or_with_a_control_character_is_refused(description: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        ItemType.create("REF", description, not_for_loan=True, now=NOW)
    assert [v.field for v in refused.value.violations] == ["item_type.description"]


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(InvalidArgument) as refused:
        ItemType.create("no good", "", not_for_loan=True, now=NOW)
    assert [v.field for v in refused.value.violations] == ["item_type.code", "item_type.description"]


def test_a_name_is_parsed_in_any_case_and_a_malformed_one_refused() -> None:
    assert parse_item_type_name("itemTypes/dvd") == "DVD"
    for bad in ("itemTypes/", "types/DVD", "itemTypes/%20", "itemTypes/" + "A" * 65, "itemTypes/TAB%09BED"):
        with pytest.raises(InvalidArgument):
            parse_item_type_name(bad)


BOOK_IN_RUSSIAN = "\u041a\u041d\u0418\u0413\u0410"
LEGACY_CODES = ["LARGE PRINT", "DVD/CD", "AUDIOBOOK_ON_CASSETTE_TAPE", BOOK_IN_RUSSIAN, "50%", "A" * 64]
"""Codes old copies had (free text, upper-cased, up to 64 characters), seeded into the list by migration 0010."""


@pytest.mark.parametrize("code", LEGACY_CODES)
def test_a_code_kept_from_before_codes_were_checked_is_named_percent_encoded_and_parsed_back(code: str) -> None:
    """Such a type answered 400 on Get, Update and Delete: it could be neither read, changed nor removed."""
    kind = ItemType(code, code, False, created_at=NOW, updated_at=NOW)
    segment = kind.name.removeprefix("itemTypes/")
    assert "/" not in segment and " " not in segment and segment.isascii()
    assert parse_item_type_name(kind.name) == code  # as listed (encoded)
    assert parse_item_type_name(f"itemTypes/{code}") == code  # as gRPC callers may send it
    # a-z in any case, as codes of today's rule; other letters as listed (str.upper folds some into others)
    assert parse_item_type_name(f"itemTypes/{code.translate(ASCII_LOWER)}") == code


def test_a_rename_takes_a_code_of_todays_rule_and_records_the_old_one() -> None:
    old = ItemType("LARGE PRINT", "Large print", True, created_at=NOW, updated_at=NOW, version=3)
    renamed = old.renamed(" large_print ", now=NOW)
    assert (renamed.code, renamed.description, renamed.not_for_loan) == ("LARGE_PRINT", "Large print", True)
    assert renamed.etag != old.etag
    (event,) = renamed.events
    assert event.changed == ("code",) and event.previous is not None and event.previous.code == "LARGE PRINT"
    assert event.changes_availability  # the copies' type changes: books' cached answers are dropped
    for bad in ("LARGE PRINT", "large print", "A" * 21, BOOK_IN_RUSSIAN):
        with pytest.raises(InvalidArgument) as refused:
            old.renamed(bad, now=NOW)
        assert [v.field for v in refused.value.violations] == ["new_code"]


def test_a_revision_records_only_what_changed_with_what_it_was() -> None:
    kind = ItemType.create("REF", "Reference", not_for_loan=False, now=NOW)
    kind.events.clear()
    kind.revise(description="Reference", not_for_loan=True, paths=("description", "not_for_loan"), now=NOW)
    (event,) = kind.events
    assert isinstance(event, ItemTypeChanged) and event.changed == ("not_for_loan",) and event.changes_availability
    assert event.previous is not None and event.previous.not_for_loan is False and kind.version == 2
    kind.events.clear()
    kind.revise(description="Reference", not_for_loan=False, paths=("description",), now=NOW)
    assert kind.events == [] and kind.version == 2 and kind.not_for_loan is True


def test_a_type_copies_have_is_not_deleted_and_the_refusal_says_how_many() -> None:
    kind = ItemType.create("DVD", "Films", not_for_loan=False, now=NOW)
    with pytest.raises(ItemTypeInUse) as refused:
        kind.delete(copies=3, now=NOW)
    assert refused.value.reason == "ITEM_TYPE_IN_USE" and "3 copies have it" in refused.value.message


def test_an_unknown_item_type_is_an_invalid_argument_on_item_type_that_says_where_to_define_it() -> None:
    error = UnknownItemType("BOK")
    assert error.reason == "UNKNOWN_ITEM_TYPE" and [v.field for v in error.violations] == ["copy.item_type"]
    assert "BOK" in error.message and "define it in itemTypes first" in error.message
