"""Book rules, without I/O: ISBNs, validation, revisions, removal, field masks."""

from datetime import UTC, datetime

import pytest

from services.catalog.domain.books import BOOK, Book, BookCreated, BookDeleted, BookDetails, BookUpdated
from services.catalog.domain.copy_values import CopyStatus
from services.catalog.domain.isbn import normalize_isbn
from services.catalog.domain.update_mask import update_paths
from services.support.runtime.errors import FailedPrecondition, InvalidArgument

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


@pytest.mark.parametrize(
    "raw",
    [
        "0-14-118014-4",
        "9780141180145",
        "12345",
        "abcdefghij",
        "9770141180144",
        "978\u0660\u0663\u0660\u0666\u0664\u0660\u0666\u0661\u00357",  # Arabic-Indic digits: a twin of 9780306406157
        "978\uff10\uff13\uff10\uff16\uff14\uff10\uff16\uff11\uff157",  # full-width digits
    ],
)
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
        BOOK.parse_id(name)


def test_a_book_is_named_by_its_id() -> None:
    book = Book.register(BookDetails(title="T"), now=NOW)
    assert BOOK.parse_id(book.name) == book.id


def test_revising_a_book_records_only_the_fields_that_changed() -> None:
    book = Book.register(BookDetails(title="Dead Souls", language="ru"), now=NOW)
    book.events.clear()
    assert book.revise(BookDetails(title="Dead Souls", subtitle="A Poem"), ("title", "subtitle"), now=NOW)
    (event,) = book.events
    assert isinstance(event, BookUpdated) and event.changed == ("subtitle",)
    assert (book.version, book.details.language) == (2, "ru")
    assert not book.revise(BookDetails(title="Dead Souls"), ("title",), now=NOW)
    assert book.version == 2  # nothing changed, nothing recorded


def test_a_book_with_a_copy_in_circulation_is_not_removed() -> None:
    book = Book.register(BookDetails(title="T", isbn="0-14-118014-5"), now=NOW)
    with pytest.raises(FailedPrecondition) as refused:
        book.remove([CopyStatus.AVAILABLE, CopyStatus.ON_HOLD_SHELF], now=NOW)
    assert refused.value.reason == "COPIES_IN_CIRCULATION"
    # The data layer counts a copy in transit for a hold as set aside too: the cataloguer is told where to look.
    assert "in transit for a hold" in refused.value.message
    book.remove([CopyStatus.AVAILABLE, CopyStatus.LOST], now=NOW)
    assert book.events[-1] == BookDeleted(
        occurred_at=NOW, event_id=book.events[-1].event_id, book_id=book.id, isbn="9780141180144", title="T"
    )


@pytest.mark.parametrize(("mask", "error"), [(["name"], "output only"), (["colour"], "unknown field")])
def test_a_mask_naming_an_output_only_or_unknown_field_is_refused(mask: list[str], error: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        update_paths(mask, sent=BookDetails(title="x"), writable=("title",), output_only=("name",))
    assert caught.value.violations[0].field == "update_mask" and error in caught.value.message


def test_no_mask_means_the_fields_sent_and_a_star_every_writable_one() -> None:
    sent = BookDetails(title="x", publication_year=1999)
    writable = ("title", "isbn", "publication_year")
    assert update_paths([], sent=sent, writable=writable, output_only=()) == ("title", "publication_year")
    assert update_paths(["*"], sent=sent, writable=writable, output_only=()) == writable


def test_the_domain_s_limits_are_the_book_message_s() -> None:
    """Imports reach the domain without the edge's check of the declared limits: the two must agree."""
    from athenaeum.api.v1 import limits_pb2
    from athenaeum.catalog.v1 import catalog_pb2
    from services.catalog.domain.books import LIST_LIMITS, TEXT_LIMITS

    declared = {
        field.name: field.GetOptions().Extensions[limits_pb2.limits] for field in catalog_pb2.Book.DESCRIPTOR.fields
    }
    assert {name: declared[name].max_length for name in TEXT_LIMITS} == TEXT_LIMITS
    assert {name: (declared[name].max_items, declared[name].max_length) for name in LIST_LIMITS} == LIST_LIMITS


def test_a_book_past_the_api_s_limits_is_refused_by_name() -> None:
    too_many = BookDetails(title="Many hands", authors=tuple(f"Author {n}" for n in range(51)), subjects=("x" * 101,))
    with pytest.raises(InvalidArgument) as refused:
        too_many.validated(current_year=2026)
    assert {v.field for v in refused.value.violations} == {"book.authors", "book.subjects"}


@pytest.mark.parametrize(
    ("cover_url", "kept"),
    [
        ("https://covers.example.org/a.png", True),
        ("HTTPS://covers.example.org/a.png", True),  # a scheme in any case (it was refused)
        ("  https://covers.example.org/a.png  ", True),  # trimmed, whichever side the space is on
        ("https://", False),  # no host (it was kept)
        ("https://covers.example.org/a b.png", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_a_cover_is_an_http_address_with_a_host(cover_url: str, kept: bool) -> None:
    details = BookDetails(title="Covered", cover_url=cover_url)
    if kept:
        assert details.validated(current_year=2026).cover_url == cover_url.strip()
    else:
        with pytest.raises(InvalidArgument, match="cover_url"):
            details.validated(current_year=2026)
