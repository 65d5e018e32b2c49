from datetime import UTC, datetime

import pytest

from services.catalog.domain import Book, BookCreated, BookDetails, normalize_isbn, parse_book_name
from services.support.runtime.errors import InvalidArgument

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "isbn13"),
    [
        ("0-14-118014-5", "9780141180144"),
        ("080442957X", "9780804429573"),
        ("978-0-14-118014-4", "9780141180144"),
        ("9791032305690", "9791032305690"),
    ],
)
def test_isbn_10_and_13_are_normalized_to_isbn_13(raw: str, isbn13: str) -> None:
    assert normalize_isbn(raw) == isbn13


@pytest.mark.parametrize("raw", ["0-14-118014-4", "9780141180145", "12345", "abcdefghij", "9770141180144"])
def test_isbn_with_a_wrong_check_digit_or_shape_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_isbn(raw)


def test_registering_a_book_cleans_its_fields_and_records_book_created() -> None:
    details = BookDetails(title="  Dead Souls ", isbn="0-14-118014-5", authors=("Gogol", " Gogol ", ""), language="RU")
    book = Book.register(details, now=NOW)
    assert book.details.title == "Dead Souls"
    assert book.details.isbn == "9780141180144"
    assert book.details.authors == ("Gogol",)
    assert book.details.language == "ru"
    assert [type(e) for e in book.events] == [BookCreated]
    assert book.name == f"books/{book.id}"


def test_every_bad_field_is_named_at_once() -> None:
    details = BookDetails(title=" ", isbn="123", publication_year=-1, cover_url="ftp://x", language="not a tag")
    with pytest.raises(InvalidArgument) as caught:
        Book.register(details, now=NOW)
    fields = {v.field for v in caught.value.violations}
    assert fields == {"book.title", "book.isbn", "book.publication_year", "book.cover_url", "book.language"}


def test_a_year_after_next_year_is_refused_but_unknown_year_is_allowed() -> None:
    Book.register(BookDetails(title="T", publication_year=0), now=NOW)
    with pytest.raises(InvalidArgument):
        Book.register(BookDetails(title="T", publication_year=2028), now=NOW)


@pytest.mark.parametrize("name", ["", "books/", "authors/1", "books/not-a-uuid"])
def test_malformed_book_names_are_invalid_arguments(name: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_book_name(name)
