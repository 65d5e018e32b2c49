"""The shared kit: one resource-name parser and one page type for every service."""

from __future__ import annotations

import uuid

import pytest

from services.support.runtime import pagination
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.names import NamePattern, check_reference
from services.support.runtime.paging import page_from_rows

COPY = NamePattern("books/{book}/copies/{copy}")
BOOK_ID, COPY_ID = uuid.uuid4(), uuid.uuid4()


def test_a_name_formats_and_parses_back_to_its_ids() -> None:
    name = COPY.format(BOOK_ID, COPY_ID)
    assert name == f"books/{BOOK_ID}/copies/{COPY_ID}"
    assert COPY.parse(name) == (BOOK_ID, COPY_ID)
    assert COPY.parse_id(name) == COPY_ID
    assert COPY.collection == "books"


@pytest.mark.parametrize(
    "bad",
    ["", "books", f"books/{BOOK_ID}", f"books/{BOOK_ID}/copies/nope", f"loans/{BOOK_ID}/copies/{COPY_ID}",
     f"books/{BOOK_ID}/copies/{COPY_ID}/extra", "books/\x00/copies/x"],
)  # fmt: skip
def test_a_malformed_name_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        COPY.parse(bad, field="copy")
    assert refused.value.violations[0].field == "copy"
    assert "books/{book}/copies/{copy}" in refused.value.violations[0].description


def test_a_pattern_refuses_the_wrong_number_of_ids() -> None:
    with pytest.raises(ValueError):
        COPY.format(BOOK_ID)


def test_another_services_names_are_checked_for_shape_only() -> None:
    assert check_reference("users/abc-123", "users", field="patron") == "users/abc-123"
    assert check_reference("", "users", field="patron", required=False) == ""
    for bad in ("", "users/", "books/1", "users/a/b", "users/" + "x" * 65):
        with pytest.raises(InvalidArgument):
            check_reference(bad, "users", field="patron")


def test_a_page_carries_a_token_only_when_more_rows_follow() -> None:
    rows = [1, 2, 3]
    full = page_from_rows(rows, limit=2, query="q", cursor_of=lambda row: [row], total_size=3)
    assert full.items == [1, 2]
    assert pagination.decode_token(full.next_page_token, "q") == [2]
    last = page_from_rows(rows, limit=3, query="q", cursor_of=lambda row: [row])
    assert last.items == [1, 2, 3] and last.next_page_token == ""
    assert full.map(str).items == ["1", "2"]
