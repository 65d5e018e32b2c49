"""The catalog's query language (AIP-160 filters, order_by), search validation, and the cursors of page tokens."""

import uuid
from datetime import UTC, datetime

import pytest

from services.catalog.app.queries import (
    BOOK_FILTER_FIELDS,
    COPY_FILTER_FIELDS,
    Condition,
    SortKey,
    parse_filter,
    parse_order_by,
    resume_after,
    sort_cursor,
)
from services.catalog.app.search_queries import Ranked, Search, SearchFilters, ranks_after, resume_ranked, score_cursor
from services.catalog.domain.books import Book, BookDetails
from services.support.runtime.errors import InvalidArgument


def test_conditions_joined_by_and_are_parsed_with_typed_values() -> None:
    parsed = parse_filter('language = "ru" AND publication_year >= 1860 AND author = "Лев Толстой"', BOOK_FILTER_FIELDS)
    assert parsed == (
        Condition("language", "=", "ru"),
        Condition("publication_year", ">=", 1860),
        Condition("author", "=", "Лев Толстой"),
    )


def test_a_filter_s_language_and_item_type_are_written_as_they_are_stored() -> None:
    """`language = "EN"` and `item_type = "dvd"` matched nothing: the catalog keeps them lower and upper."""
    assert parse_filter('language = "EN"', BOOK_FILTER_FIELDS)[0].value == "en"
    assert parse_filter('item_type = "dvd"', COPY_FILTER_FIELDS)[0].value == "DVD"


def test_an_isbn_in_a_filter_is_normalized() -> None:
    assert parse_filter("isbn = 0-14-044913-2", BOOK_FILTER_FIELDS)[0].value == "9780140449136"


@pytest.mark.parametrize(
    "text",
    [
        "colour = red",
        "language > en",
        "publication_year = soon",
        "language =",
        "language = en OR isbn = 1",
        "= en",
        "publication_year > 99999999999999999999",  # past what Postgres compares: it answered INTERNAL
        "available_copies > 2147483648",
        "publication_year = 1_999",  # Python's int() reads these; a filter does not
        "publication_year = \u0663",
    ],
)
def test_malformed_filters_are_refused_on_the_filter_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text, BOOK_FILTER_FIELDS)
    assert caught.value.violations[0].field == "filter"


def test_copy_statuses_are_checked() -> None:
    assert parse_filter("status = ON_LOAN", COPY_FILTER_FIELDS) == (Condition("status", "=", "ON_LOAN"),)
    with pytest.raises(InvalidArgument):
        parse_filter("status = COPY_STATUS_BORROWED", COPY_FILTER_FIELDS)


def test_a_copy_status_is_taken_by_the_value_name_the_api_prints() -> None:
    assert parse_filter("status = COPY_STATUS_AVAILABLE", COPY_FILTER_FIELDS) == (
        Condition("status", "=", "AVAILABLE"),
    )
    assert parse_filter('status != "COPY_STATUS_ON_LOAN"', COPY_FILTER_FIELDS) == (
        Condition("status", "!=", "ON_LOAN"),
    )
    with pytest.raises(InvalidArgument):
        parse_filter("status = BORROWED", COPY_FILTER_FIELDS)


def test_order_by_defaults_to_newest_first_and_refuses_unknown_fields() -> None:
    assert parse_order_by("") == (SortKey("create_time", True),)
    assert parse_order_by("title, publication_year desc") == (
        SortKey("title", False),
        SortKey("publication_year", True),
    )
    for bad in ("colour", "title sideways", "title, title"):
        with pytest.raises(InvalidArgument):
            parse_order_by(bad)


def test_a_search_is_trimmed_and_its_facets_deduplicated() -> None:
    search = Search(text="  war   and  peace ", facets=("language", "language")).validated()
    assert (search.text, search.facets) == ("war and peace", ("language",))
    assert Search(text="0-14-044913-2").isbn() == "9780140449136"
    assert Search(text="war").isbn() == ""


@pytest.mark.parametrize(
    "text", ["ISBN 978-0-14-044913-6", "isbn: 0140449132", "ISBN-13: 9780140449136", "ISBN-10 0-14-044913-2"]
)
def test_an_isbn_copied_with_its_label_is_looked_up_as_an_isbn(text: str) -> None:
    """ "ISBN 978-5-17-090830-1" as copied from a publisher's page found nothing; the bare number did."""
    assert Search(text=text).isbn() == "9780140449136"
    assert Search(text="isbn").isbn() == Search(text="ISBN war and peace").isbn() == ""


def test_a_search_needs_a_query_or_a_filter() -> None:
    Search(filters=SearchFilters(language="ru")).validated()
    with pytest.raises(InvalidArgument):
        Search().validated()


def test_a_sort_cursor_reads_back_as_typed_values_then_the_book_id() -> None:
    book = Book.register(BookDetails(title="Dead Souls", publication_year=1842), now=datetime(2026, 1, 2, tzinfo=UTC))
    keys = parse_order_by("title, publication_year desc, create_time")
    cursor = sort_cursor(book, keys)
    assert resume_after(keys, cursor) == ("Dead Souls", 1842, book.created_at, book.id)


@pytest.mark.parametrize("cursor", [[], ["Dead Souls"], ["Dead Souls", "not a uuid"], ["Dead Souls", 7], [1, 2, 3]])
def test_a_tampered_sort_cursor_is_refused_on_the_page_token(cursor: list[object]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        resume_after(parse_order_by("title"), cursor)
    assert refused.value.violations[0].field == "page_token"


def test_a_search_page_resumes_right_after_the_last_hit_even_among_equal_scores() -> None:
    ids = sorted(uuid.uuid4() for _ in range(4))
    ranked = [Ranked(2.0, ids[0]), Ranked(1.0, ids[1]), Ranked(1.0, ids[2]), Ranked(0.5, ids[3])]
    assert resume_ranked(None) is None
    after = resume_ranked(score_cursor(ranked[1]))
    assert after == ranked[1]
    assert [r for r in ranked if ranks_after(r, after)] == ranked[2:]
    assert [r for r in ranked if ranks_after(r, resume_ranked(score_cursor(ranked[3])))] == []
    for tampered in (["high", "x"], [1.0], [1.0, "not a uuid"], "x"):
        with pytest.raises(InvalidArgument):
            resume_ranked(tampered)  # type: ignore[arg-type]


def test_a_facet_counts_every_value_most_frequent_first_then_by_value_and_skips_empty_ones() -> None:
    from services.catalog.app.search_queries import FACET_SIZE, count_facet

    assert count_facet(["en", "ru", "", "en", "de", "ru", "en"]) == [("en", 3), ("ru", 2), ("de", 1)]
    assert count_facet([1866, 0, None, 1869, 1866]) == [("1866", 2), ("1869", 1)]
    assert len(count_facet(str(n) for n in range(FACET_SIZE + 5))) == FACET_SIZE
