"""Item types in the domain: what a code and a description may be, and what a change records."""

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
    with pytest.raises(InvalidArgument):
        parse_item_type_name(f"itemTypes/{code}")


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
    for bad in ("itemTypes/", "types/DVD", "itemTypes/NO GOOD", "itemTypes/" + "A" * 21):
        with pytest.raises(InvalidArgument):
            parse_item_type_name(bad)


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
