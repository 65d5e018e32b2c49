"""A title is one line: a line break or another control character in it is refused where it is given (it went
into every letter and SMS about the book as extra lines); a book stored before the rule keeps it until it is
edited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.catalog.domain.books import Book, BookDetails
from services.support.runtime.errors import InvalidArgument

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("title", ["Война и мир\r\nSubject: injected", "War\nand Peace", "War\tPeace", "War\x1b[2J"])
def test_a_title_with_a_line_break_or_control_character_is_refused(title: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        Book.register(BookDetails(title=title), now=NOW)
    assert [v.field for v in error.value.violations] == ["book.title"]
    assert "one line" in error.value.violations[0].description


def test_a_revised_title_with_a_line_break_is_refused() -> None:
    book = Book.register(BookDetails(title="War and Peace"), now=NOW)
    with pytest.raises(InvalidArgument) as error:
        book.revise(BookDetails(title="War and\nPeace"), ("title",), now=NOW)
    assert [v.field for v in error.value.violations] == ["book.title"]
    assert book.details.title == "War and Peace"


def test_a_book_stored_with_a_break_in_its_title_may_still_change_other_fields() -> None:
    book = Book.register(BookDetails(title="War and Peace"), now=NOW)
    book.details = replace(book.details, title="War and\nPeace")  # stored before the rule
    assert book.revise(BookDetails(title="", publisher="Penguin"), ("publisher",), now=NOW)
    assert book.details.publisher == "Penguin" and book.details.title == "War and\nPeace"
