"""SearchBooks against real Postgres and a demo catalogue of 3,000 titles: a query of stop words only ("the",
"of the", "и") fell back to the typo-tolerant match, which scored the third of the catalogue sharing the
word's trigrams (0.4-2.6 s at 50,000 titles) to rank books that merely contain "the". Now it matches the titles
that are exactly it, through an index, and a typo in a real word is still forgiven.

The plans are those of the statements the catalog runs (EXPLAIN ANALYZE of each, with the same values), so
the tests assert what Postgres reads rather than how long it takes on a shared machine."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from services.catalog.api import demo
from services.catalog.app import books
from services.catalog.app.search_queries import Search
from services.catalog.data.tables import books as books_table
from services.support.runtime.driver import DriverStatement

pytestmark = pytest.mark.integration

TITLES = 3_000
EXTRA = [  # (title, author): whole titles of stop words, and the book the typos below aim at
    ("It", "Stephen King"),
    ("Мы", "Евгений Замятин"),
    ("The Master and Margarita", "Mikhail Bulgakov"),
]
TRIGRAM_INDEX = "books_search_text_trgm"


def _rows() -> Iterator[dict[str, Any]]:
    for isbn, title, subtitle, authors, subjects, publisher, year, language, description, _ in csv.reader(
        demo.rows(TITLES)
    ):
        yield {
            "isbn": isbn,
            "title": title,
            "subtitle": subtitle,
            "authors": authors.split(";"),
            "subjects": subjects.split(";"),
            "publisher": publisher,
            "publication_year": int(year),
            "language": language,
            "description": description,
        }
    for title, author in EXTRA:
        yield {
            "isbn": None,
            "title": title,
            "subtitle": "",
            "authors": [author],
            "subjects": [],
            "publisher": "",
            "publication_year": None,
            "language": "",
            "description": "",
        }


@pytest.fixture
async def catalogue(catalog_uow) -> list[dict[str, Any]]:
    """The demo's first 3,000 titles and EXTRA, written in one statement (as an import would), then analyzed."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [{**row, "id": uuid.uuid4(), "created_at": now, "updated_at": now, "version": 1} for row in _rows()]
    async with catalog_uow.engine.begin() as connection:
        await connection.execute(sa.insert(books_table), rows)
        await connection.execute(sa.text("ANALYZE books"))
    return rows


@pytest.fixture
def plans(monkeypatch) -> list[dict[str, Any]]:
    """The plan (EXPLAIN ANALYZE, as JSON) of every ranking statement the searches run, in order."""
    seen: list[dict[str, Any]] = []
    run = DriverStatement.fetchrow

    async def explained(self: DriverStatement, connection: Any, **values: Any) -> Any:
        if "matched" in self.sql:
            plan = await connection.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + self.sql, *self._arguments(values))
            seen.append((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        return await run(self, connection, **values)

    monkeypatch.setattr(DriverStatement, "fetchrow", explained)
    return seen


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _rows_read(plan: dict[str, Any], index: str | None = None) -> int:
    """Rows the plan's scans of books produced (those of one index with `index`)."""
    return sum(
        int(node.get("Actual Rows", 0))
        for node in _nodes(plan)
        if (node.get("Relation Name") == "books" and index is None) or (index and node.get("Index Name") == index)
    )


async def _search(catalog_uow, text: str, *, page_size: int = 20, page_token: str = "") -> books.SearchResults:
    command = books.SearchBooks(Search(text=text, facets=("language", "subjects")), page_size, page_token)
    return await books.search_books(command, uow=catalog_uow.reads())


def _titles(found: books.SearchResults) -> list[str]:
    return [hit.book.details.title for hit in found.page.items]


@pytest.mark.parametrize(
    ("text", "titles"),
    [("the", []), ("of the", []), ("THE", []), ("и", []), ("It", ["It"]), ("мы", ["Мы"]), ('"the"', [])],
)
async def test_a_query_of_stop_words_only_finds_the_title_that_is_exactly_it_or_nothing(
    catalog_uow, catalogue, plans, text, titles
) -> None:
    """Before: "the" found ~1,000 of these titles (each containing "the"), ranked by trigram similarity."""
    found = await _search(catalog_uow, text)
    assert (_titles(found), found.page.total_size) == (titles, len(titles))
    # One statement, full text and the exact title: no trigram comparison, no row read beyond the title's.
    assert len(plans) == 1
    assert not any(node.get("Index Name") == TRIGRAM_INDEX for node in _nodes(plans[0]))
    assert _rows_read(plans[0]) <= len(titles)


@pytest.mark.parametrize("text", ['"It"', "It.", "it!", " it, ", "«Мы»", "мы?!", "'It'"])
async def test_a_stop_word_title_in_quotes_or_with_punctuation_is_found_as_without(
    catalog_uow, catalogue, plans, text
) -> None:
    """Before: "it" found "It" but "\"It\"", "It." and "it!" found nothing (the title was compared with the text
    as typed), while full text ignores the same punctuation around a real word."""
    found = await _search(catalog_uow, text)
    title = "Мы" if "ы" in text else "It"
    assert (_titles(found), found.page.total_size) == ([title], 1)
    assert len(plans) == 1 and _rows_read(plans[0]) <= 1


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("the master", "The Master and Margarita"),
        ("Bulgakvo", "The Master and Margarita"),
        ("the mastr and margerita", "The Master and Margarita"),
        ("булгков", "Мастер и Маргарита"),
        ("и маргорита", "Мастер и Маргарита"),
    ],
)
async def test_a_real_word_beside_stop_words_or_with_a_typo_still_finds_the_book(
    catalog_uow, catalogue, plans, text, title
) -> None:
    found = await _search(catalog_uow, text)
    assert _titles(found)[:1] == [title]
    typo_tolerant = plans[1:]
    for plan in typo_tolerant:  # the trigram match compares the real words: candidates for them only
        assert _rows_read(plan, TRIGRAM_INDEX) < TITLES // 20


async def test_stop_words_beside_a_misspelt_word_do_not_match_every_title_that_has_them(
    catalog_uow, catalogue, plans
) -> None:
    """Before: "of the gardn" matched every title with "of the" (a third of the English ones), the trigram
    index handing them all to be scored; only the misspelt word is compared now."""
    found, hits = await _search(catalog_uow, "of the gardn", page_size=100), []
    while True:
        hits += [
            (hit.book.details.title + " " + " ".join(hit.book.details.authors)).lower() for hit in found.page.items
        ]
        if not found.page.next_page_token:
            break
        found = await _search(catalog_uow, "of the gardn", page_size=100, page_token=found.page.next_page_token)
    assert hits, "the misspelt word still finds the gardens"
    assert [hit for hit in hits if "gar" not in hit] == []
    gardens = sum("gar" in (row["title"] + " ".join(row["authors"])).lower() for row in catalogue)
    assert _rows_read(plans[1], TRIGRAM_INDEX) <= gardens
