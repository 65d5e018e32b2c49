"""SearchBooks and ListBooks against real Postgres: full text, typos, ranking, filters, facets, pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.app import books, copies, queries
from services.catalog.app.search_queries import FACET_SIZE, Search, SearchFilters, count_facet
from services.catalog.data import search as search_sql
from services.catalog.domain.books import BookDetails
from services.catalog.domain.copy_values import CopyDetails
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import encode_token, fingerprint

pytestmark = pytest.mark.integration

LIBRARY = [
    BookDetails(
        title="Crime and Punishment",
        authors=("Fyodor Dostoevsky",),
        subjects=("Psychological fiction", "Saint Petersburg"),
        language="en",
        publication_year=1866,
        isbn="9780143058144",
        description="A poor student in Saint Petersburg plans a murder.",
    ),
    BookDetails(
        title="Преступление и наказание",
        authors=("Фёдор Достоевский",),
        subjects=("Психологический роман",),
        language="ru",
        publication_year=1866,
    ),
    BookDetails(
        title="Война и мир",
        authors=("Лев Толстой",),
        subjects=("Исторический роман",),
        language="ru",
        publication_year=1869,
    ),
    BookDetails(
        title="The Idiot",
        authors=("Fyodor Dostoevsky",),
        subjects=("Psychological fiction",),
        language="en",
        publication_year=1869,
    ),
    BookDetails(
        title="Winter Garden", authors=("Anna Crime",), subjects=("Gardening",), language="en", publication_year=2001
    ),
    BookDetails(
        title="Gardens of the North", authors=("Olga Berg",), subjects=("Crime",), language="en", publication_year=2010
    ),
]


@pytest.fixture
async def library(catalog_uow) -> dict[str, object]:
    clock = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    created = {}
    for details in LIBRARY:
        clock.advance(timedelta(minutes=1))
        created[details.title] = await books.create_book(books.CreateBook(details), uow=catalog_uow(), clock=clock)
    idiot = created["The Idiot"]
    one_copy = copies.CreateCopy(idiot.id, CopyDetails(barcode="IDIOT-1"))
    await copies.create_copy(one_copy, uow=catalog_uow(), clock=clock)
    return created


async def _search(uow, text: str = "", **kwargs: object) -> books.SearchResults:
    filters = kwargs.pop("filters", SearchFilters())
    search = Search(text=text, filters=filters, facets=tuple(kwargs.pop("facets", ())))  # type: ignore[arg-type]
    # The read-only unit of work, as the service runs searches.
    return await books.search_books(books.SearchBooks(search, **kwargs), uow=uow.reads())  # type: ignore[arg-type]


def _titles(found: books.SearchResults) -> list[str]:
    return [hit.book.details.title for hit in found.page.items]


async def test_words_are_stemmed_and_case_folded_in_english_and_russian(catalog_uow, library) -> None:
    assert _titles(await _search(catalog_uow, "punishments")) == ["Crime and Punishment"]
    assert _titles(await _search(catalog_uow, "НАКАЗАНИЯ")) == ["Преступление и наказание"]


async def test_a_misspelt_title_or_author_still_finds_the_book(catalog_uow, library) -> None:
    assert "Crime and Punishment" in _titles(await _search(catalog_uow, "Dostoyevsky"))
    assert _titles(await _search(catalog_uow, "преступлние"))[0] == "Преступление и наказание"
    assert _titles(await _search(catalog_uow, "Толстй"))[0] == "Война и мир"


async def test_a_title_match_ranks_above_an_author_match_above_a_subject_match(catalog_uow, library) -> None:
    found = await _search(catalog_uow, "crime")
    assert _titles(found) == ["Crime and Punishment", "Winter Garden", "Gardens of the North"]
    scores = [hit.score for hit in found.page.items]
    assert scores == sorted(scores, reverse=True)
    assert any("<b>Crime</b>" in h for h in found.page.items[0].highlights)


async def test_a_passage_is_html_the_book_s_own_markup_escaped(catalog_uow, library) -> None:
    """The passage put <b> around matched words in the book's raw text: an <img onerror> in a title reached
    every client that showed the passage as the HTML it is documented to be."""
    marked = BookDetails(title="Xylophonic <img src=x onerror=alert(1)> tales", description="Fish & chips")
    await books.create_book(
        books.CreateBook(marked), uow=catalog_uow(), clock=FixedClock(datetime(2026, 11, 22, tzinfo=UTC))
    )
    (hit,) = (await _search(catalog_uow, "xylophonic")).page.items
    assert hit.highlights == ["<b>Xylophonic</b> &lt;img src=x onerror=alert(1)&gt; tales — Fish &amp; chips"]


async def test_typo_tolerant_matches_are_sought_only_when_full_text_finds_too_little(
    catalog_uow, library, monkeypatch
) -> None:
    misspelt = BookDetails(title="Gardenn Stories", language="en")  # no word full text would stem to "garden"
    await books.create_book(
        books.CreateBook(misspelt), uow=catalog_uow(), clock=FixedClock(datetime(2026, 11, 22, tzinfo=UTC))
    )
    every = _titles(await _search(catalog_uow, "garden"))
    assert {"Winter Garden", "Gardens of the North", "Gardenn Stories"} <= set(every)
    monkeypatch.setattr(search_sql, "ENOUGH_FULL_TEXT_MATCHES", 2)  # full text finds three: enough now
    full_text_only = _titles(await _search(catalog_uow, "garden"))
    assert full_text_only == [title for title in every if title != "Gardenn Stories"]  # ranked alike


async def test_a_search_s_later_pages_keep_its_first_page_s_ranking_while_books_are_added(
    catalog_uow, library, monkeypatch
) -> None:
    """Each page decided anew between full text and typo tolerance: one book added between two pages switched
    the ranking, and page 2 repeated hits of page 1 while near misses vanished."""
    monkeypatch.setattr(search_sql, "ENOUGH_FULL_TEXT_MATCHES", 4)  # "garden": full text finds 2, so typos too
    clock = FixedClock(datetime(2026, 11, 22, tzinfo=UTC))
    for title in ("Gardenn Stories", "Gardn Tales"):  # near misses only the typo-tolerant ranking finds
        await books.create_book(
            books.CreateBook(BookDetails(title=title, language="en")), uow=catalog_uow(), clock=clock
        )
    first = await _search(catalog_uow, "garden", page_size=2)
    every = _titles(await _search(catalog_uow, "garden", page_size=50))
    for title in ("A Garden Again", "Garden Twice"):  # full text would now find four: enough for a new search
        await books.create_book(
            books.CreateBook(BookDetails(title=title, language="en")), uow=catalog_uow(), clock=clock
        )

    rest, token = [], first.page.next_page_token
    while token:
        page = await _search(catalog_uow, "garden", page_size=2, page_token=token)
        rest += _titles(page)
        token = page.page.next_page_token

    seen = _titles(first) + rest
    assert len(seen) == len(set(seen)), seen  # no hit twice
    assert set(every) <= set(seen)  # no hit of the first ranking lost


async def test_an_isbn_query_finds_exactly_that_book_first(catalog_uow, library) -> None:
    found = await _search(catalog_uow, "0-14-305814-2")
    assert _titles(found)[0] == "Crime and Punishment"


async def test_filters_narrow_the_results(catalog_uow, library) -> None:
    dostoevsky = SearchFilters(authors=("Fyodor Dostoevsky",))
    assert set(_titles(await _search(catalog_uow, filters=dostoevsky))) == {"Crime and Punishment", "The Idiot"}
    russian_1860s = SearchFilters(language="ru", min_year=1860, max_year=1867)
    assert _titles(await _search(catalog_uow, filters=russian_1860s)) == ["Преступление и наказание"]
    assert _titles(await _search(catalog_uow, filters=SearchFilters(available_only=True))) == ["The Idiot"]
    subject = SearchFilters(subjects=("Psychological fiction",), available_only=True)
    assert _titles(await _search(catalog_uow, "idiot", filters=subject)) == ["The Idiot"]


async def test_facets_count_every_match_not_just_the_page(catalog_uow, library) -> None:
    found = await _search(
        catalog_uow,
        filters=SearchFilters(min_year=1800),
        facets=["language", "authors", "publication_year"],
        page_size=1,
    )
    assert found.page.total_size == 6
    assert len(found.page.items) == 1
    assert found.facets["language"] == [("en", 4), ("ru", 2)]
    assert found.facets["authors"][0] == ("Fyodor Dostoevsky", 2)
    assert ("1866", 2) in found.facets["publication_year"]


async def test_pages_of_a_search_are_complete_and_do_not_overlap(catalog_uow, library) -> None:
    seen, token = [], ""
    while True:
        page = await _search(catalog_uow, filters=SearchFilters(min_year=1), page_size=4, page_token=token)
        seen += [hit.book.id for hit in page.page.items]
        token = page.page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 6


async def test_a_page_token_from_another_search_is_refused(catalog_uow, library) -> None:
    found = await _search(catalog_uow, "garden", page_size=1)
    assert found.page.next_page_token
    with pytest.raises(InvalidArgument) as caught:
        await _search(catalog_uow, "crime", page_size=1, page_token=found.page.next_page_token)
    assert caught.value.violations[0].field == "page_token"


@pytest.mark.parametrize(
    ("search", "field"),
    [
        (Search(), "query"),
        (Search(text="x", facets=("colour",)), "facets[0]"),
        (Search(filters=SearchFilters(min_year=2000, max_year=1990)), "filters.max_publication_year"),
        (Search(filters=SearchFilters(min_year=-5)), "filters.min_publication_year"),
    ],
)
async def test_bad_searches_name_the_field(catalog_uow, search: Search, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await books.search_books(books.SearchBooks(search), uow=catalog_uow())
    assert caught.value.violations[0].field == field


async def test_list_books_filters_and_orders_with_stable_pages(catalog_uow, library) -> None:
    query = books.ListBooks(filter='language = "en" AND publication_year < 2005', order_by="title", page_size=2)
    titles, token = [], ""
    while True:
        page = await books.list_books(
            books.ListBooks(query.page_size, token, query.filter, query.order_by), uow=catalog_uow()
        )
        titles += [b.details.title for b in page.items]
        token = page.next_page_token
        if not token:
            break
    assert titles == ["Crime and Punishment", "The Idiot", "Winter Garden"]
    available = await books.list_books(books.ListBooks(filter="available_copies > 0"), uow=catalog_uow())
    assert [b.details.title for b in available.items] == ["The Idiot"]
    by_author = await books.list_books(
        books.ListBooks(filter='author = "Fyodor Dostoevsky"', order_by="publication_year desc, title"),
        uow=catalog_uow(),
    )
    assert [b.details.title for b in by_author.items] == ["The Idiot", "Crime and Punishment"]
    # Only Crime and Punishment has this ISBN: every other book is "not it", those without an ISBN included.
    others = await books.list_books(books.ListBooks(filter='isbn != "9780143058144"'), uow=catalog_uow())
    assert len(others.items) == 5 and "Crime and Punishment" not in [b.details.title for b in others.items]


@pytest.mark.parametrize(
    "bad_filter", ["colour = red", "title = x", "language > en", "publication_year = soon", "language ="]
)
async def test_an_unknown_or_malformed_filter_is_refused(catalog_uow, bad_filter: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await books.list_books(books.ListBooks(filter=bad_filter), uow=catalog_uow())
    assert caught.value.violations[0].field == "filter"


async def test_facets_counted_in_postgres_follow_count_facet_ties_empties_and_the_cap(catalog_uow) -> None:
    """Postgres groups the facets now; the rules stay count_facet's (most frequent, then by value in code
    point order, empty values skipped, FACET_SIZE at most, each list value once per book)."""
    clock = FixedClock(datetime(2026, 11, 23, tzinfo=UTC))
    subjects = [f"Тема {n:02d}" for n in range(FACET_SIZE + 3)] + ["Zebra", "apple", "Ёж"]
    shelf = [
        BookDetails(
            title=f"Facet {i}", subjects=tuple(subjects[i % len(subjects) :][:3]), language=lang, publication_year=year
        )
        for i, (lang, year) in enumerate([("en", 0), ("", 1999), ("ru", 1999), ("en", 2001)] * 7)
    ]
    for details in shelf:
        await books.create_book(books.CreateBook(details), uow=catalog_uow(), clock=clock)
    found = await _search(catalog_uow, "facet", facets=["subjects", "language", "publication_year"], page_size=1)
    assert found.page.total_size == len(shelf)
    assert found.facets["subjects"] == count_facet(s for d in shelf for s in d.subjects)
    assert len(found.facets["subjects"]) == FACET_SIZE
    assert found.facets["language"] == count_facet(d.language for d in shelf) == [("en", 14), ("ru", 7)]
    assert found.facets["publication_year"] == [("1999", 14), ("2001", 7)]


async def test_a_search_read_page_by_page_is_the_same_list_as_in_one_page(catalog_uow, library) -> None:
    whole = await _search(catalog_uow, "crime garden", facets=["language"], page_size=50)
    seen, token = [], ""
    while True:
        page = await _search(catalog_uow, "crime garden", facets=["language"], page_size=1, page_token=token)
        assert page.page.total_size == whole.page.total_size and page.facets == whole.facets
        seen += [(hit.book.id, hit.score) for hit in page.page.items]
        if not (token := page.page.next_page_token):
            break
    assert seen == [(hit.book.id, hit.score) for hit in whole.page.items]


@pytest.mark.parametrize(
    ("order_by", "cursor"),
    [
        ("", [10**400, "00000000-0000-0000-0000-000000000001"]),  # a search score no float holds
        ("", [float("nan"), "00000000-0000-0000-0000-000000000001"]),
        ("publication_year", [10**30, "00000000-0000-0000-0000-000000000001"]),  # beyond Postgres' integer
        ("publication_year", [float("inf"), "00000000-0000-0000-0000-000000000001"]),
        ("create_time", [12, "00000000-0000-0000-0000-000000000001"]),
    ],
)
async def test_a_forged_page_token_is_refused_or_harmless_never_a_crash(catalog_uow, library, order_by, cursor) -> None:
    """Page tokens are not signed: a client may forge one with any cursor for the right query."""
    if order_by:
        query = books.ListBooks(order_by=order_by, page_size=2)
        keys = queries.parse_order_by(order_by)
        conditions = queries.parse_filter("", queries.BOOK_FILTER_FIELDS)
        token = encode_token(cursor, fingerprint("ListBooks", conditions, keys))
        with pytest.raises(InvalidArgument):
            await books.list_books(replace(query, page_token=token), uow=catalog_uow.reads())
        return
    token = encode_token(cursor, fingerprint("SearchBooks", "crime", SearchFilters()))
    try:
        found = await _search(catalog_uow, "crime", page_token=token)
    except InvalidArgument as refused:
        assert refused.violations[0].field == "page_token"
    else:
        assert found.page.total_size == 3  # NaN sorts above every score: the list starts again, whole
