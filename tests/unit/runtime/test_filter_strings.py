"""AIP-160 string literals in List filters (ListHolds, ListBooks, ListCopies): single quotes as double, escapes
read, and what only looks quoted refused, not matched as a word (it matched nothing, silently)."""

from __future__ import annotations

import pytest

from services.catalog.app.queries import BOOK_FILTER_FIELDS, COPY_FILTER_FIELDS, Condition, parse_filter
from services.loans.app.hold_queries import HoldConditions, parse_hold_filter
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.filter_strings import unquote


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        ('"EAST"', "EAST"),
        ("'EAST'", "EAST"),
        (r'"\u0045AST"', "EAST"),
        (r"'\U0001F4DA'", "\U0001f4da"),
        (r"'O\'Brien'", "O'Brien"),
        (r'"say \"hi\""', 'say "hi"'),
        (r'"a\\b"', "a\\b"),
        ("'\"'", '"'),
    ],
)
def test_a_quoted_value_is_read_with_its_escapes(literal: str, text: str) -> None:
    assert unquote(literal) == text


@pytest.mark.parametrize("literal", [r'"a\qb"', r'"\u00"', r'"\u0000"', r'"\n"', r'"\uD800"', r"'\U00110000'"])
def test_an_unknown_escape_or_a_control_character_is_refused(literal: str) -> None:
    with pytest.raises(InvalidArgument):
        unquote(literal)


@pytest.mark.parametrize(
    "text",
    [
        "pickup_branch = 'EAST'",
        'pickup_branch = "EAST"',
        r'pickup_branch = "\u0045AST"',
        "pickup_branch = EAST",
        "pickup_branch = 'east' ",
    ],
)
def test_every_spelling_of_a_branch_in_a_hold_filter_is_the_same_branch(text: str) -> None:
    assert parse_hold_filter(text) == HoldConditions(pickup_branch="east")


@pytest.mark.parametrize(
    "text",
    ["pickup_branch = 'EAST", "pickup_branch = EAST'", "pickup_branch = 'EA'ST'", r'pickup_branch = "E\AST"'],
)
def test_a_hold_filter_value_that_is_neither_a_word_nor_a_string_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_hold_filter(text)


def test_catalog_filters_read_single_quotes_and_escapes_too() -> None:
    assert parse_filter("language = 'ru' AND author = 'O\\'Brien'", BOOK_FILTER_FIELDS) == (
        Condition("language", "=", "ru"),
        Condition("author", "=", "O'Brien"),
    )
    assert parse_filter(r"branch = '\u0045AST'", COPY_FILTER_FIELDS) == (Condition("branch", "=", "EAST"),)
    assert parse_filter("author = O'Brien", BOOK_FILTER_FIELDS) == (Condition("author", "=", "O'Brien"),)
    for text in ("language = 'ru", r'author = "\x41"', "language = 'ru' 'en'"):
        with pytest.raises(InvalidArgument):
            parse_filter(text, BOOK_FILTER_FIELDS)
