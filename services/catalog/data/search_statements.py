"""The statements of SearchBooks, built once per shape of search and reused with new values.

A search's statement is large (the matches in a materialized CTE, the page, the count, a grouped subquery per
facet): building it and computing its cache key cost the catalog more CPU than Postgres spends running it.
So each shape (which filters, facets and text it has, full text or typo-tolerant, first page or not) is
built once, with named bind parameters, and a search passes only its values (`search_values`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import fields
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSON, UUID, aggregate_order_by

from services.catalog.app.search_queries import FACET_SIZE, LIST_FACETS, Ranked, Search, SearchFilters
from services.catalog.data.books import BOOKS_WITH_COUNTS
from services.catalog.data.item_types import lendable
from services.catalog.data.tables import books, copies
from services.catalog.domain.copy_values import CopyStatus
from services.support.runtime.driver import DriverStatement

TEXT_SEARCH_CONFIG: sa.ColumnClause[Any] = sa.literal_column("'russian'::regconfig")
# A typo-tolerant match adds its similarity (0..1) at this weight to the full-text rank, which is ~0.6
# for one title word, ~0.25 for an author and ~0.12 for a subject (ts_rank's default weights 1, .4, .2, .1).
SIMILARITY_WEIGHT = 0.5
EXACT_ISBN_SCORE = 10.0
EXACT_TITLE_SCORE = 1.0
"""A query of stop words only ("It", "Мы") matches the books with exactly that title, scored so."""
MIN_TYPO_WORD = 3
"""A typo-tolerant match compares only words this long: a shorter one ("de", "я") shares its one or two
trigrams with thousands of titles, and one letter changed in it makes another word rather than a typo."""
MATCH_START, MATCH_END = "\x02", "\x03"
"""ts_headline's marks around a matched word: control characters, which no stored text may hold, so the passage
can be escaped as HTML before they become <b> and </b> (an <img onerror> in a title reached clients as markup)."""
HEADLINE_OPTIONS = f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=25, MinWords=8, MaxFragments=2"

_HAS_AVAILABLE_COPY = sa.exists().where(
    copies.c.book_id == books.c.id, copies.c.status == CopyStatus.AVAILABLE.value, lendable(copies.c.item_type)
)
_TEXTS = ARRAY(sa.Text)
_FLOATS = ARRAY(sa.Float)
_UUIDS = ARRAY(UUID(as_uuid=True))
"""Ids go as one array parameter: one prepared statement whatever their number."""
_FACET_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "authors": books.c.authors,
    "subjects": books.c.subjects,
    "language": books.c.language,
    "publisher": books.c.publisher,
    "publication_year": books.c.publication_year,
}
_FILTERS: dict[str, Callable[[], sa.ColumnElement[bool]]] = {
    "authors": lambda: books.c.authors.overlap(sa.bindparam("authors", type_=_TEXTS)),
    "subjects": lambda: books.c.subjects.overlap(sa.bindparam("subjects", type_=_TEXTS)),
    "language": lambda: books.c.language == sa.bindparam("language", type_=sa.Text),
    "publisher": lambda: books.c.publisher == sa.bindparam("publisher", type_=sa.Text),
    "min_year": lambda: books.c.publication_year >= sa.bindparam("min_year", type_=sa.Integer),
    "max_year": lambda: books.c.publication_year <= sa.bindparam("max_year", type_=sa.Integer),
    "available_only": lambda: _HAS_AVAILABLE_COPY,
}
_FILTER_NAMES = tuple(f.name for f in fields(SearchFilters))
_AROUND_WORDS = re.compile(r"^[\W_]+|[\W_]+$")
"""What is not a letter or a digit at either end of a text: full text's parser reads no word in it."""


def bare_title(text: str) -> str:
    """A search text as a title to match exactly: without the quotes and punctuation around it, which full text
    ignores around a real word ("ends!" finds "It Ends With Us") and a reader types around a title ("It", It.)."""
    return _AROUND_WORDS.sub("", text)


class Shape(NamedTuple):
    """What decides a search statement's SQL; the values go as parameters."""

    filters: tuple[str, ...]
    facets: tuple[str, ...]
    text: bool
    isbn: bool
    typos: bool
    resumed: bool

    @classmethod
    def of(cls, search: Search, after: Ranked | None, *, typos: bool) -> Shape:
        given = tuple(name for name in _FILTER_NAMES if getattr(search.filters, name))
        return cls(given, search.facets, bool(search.text), bool(search.isbn()), typos, after is not None)


def search_values(search: Search, after: Ranked | None = None, limit: int = 0) -> dict[str, Any]:
    """The parameters of any search statement (each uses those it names)."""
    f = search.filters
    values: dict[str, Any] = {
        "query": search.text,
        "title": bare_title(search.text),
        "isbn": search.isbn(),
        "authors": list(f.authors),
        "subjects": list(f.subjects),
        "language": f.language.lower(),
        "publisher": f.publisher,
        "min_year": f.min_year,
        "max_year": f.max_year,
        "limit": limit,
    }
    if after is not None:
        values |= {"after_score": after.score, "after_id": after.book_id}
    return values


@functools.lru_cache(maxsize=1024)
def page_of_matches(shape: Shape) -> DriverStatement:
    """One row: total, each facet's (value, count) pairs as JSON, the page's ids and scores in order (two
    arrays, null when the page is empty), and whether the text has words a typo-tolerant match would compare."""
    where, score = _matching(shape)
    facet_columns = [_FACET_COLUMNS[name].label(name) for name in shape.facets]
    matched = sa.select(books.c.id, score.label("score"), *facet_columns).where(*where).cte("matched")
    matched = matched.prefix_with("MATERIALIZED")  # read by the page, the count and every facet
    page = sa.select(matched.c.id, matched.c.score).order_by(matched.c.score.desc(), matched.c.id)
    if shape.resumed:
        after_score = sa.bindparam("after_score", type_=sa.Float)
        after_id = sa.bindparam("after_id", type_=UUID(as_uuid=True))
        page = page.where(
            sa.or_(matched.c.score < after_score, sa.and_(matched.c.score == after_score, matched.c.id > after_id))
        )
    paged = page.limit(sa.bindparam("limit", type_=sa.Integer)).subquery("page")
    in_order = (paged.c.score.desc(), paged.c.id)
    ids = sa.func.array_agg(aggregate_order_by(paged.c.id, *in_order), type_=_UUIDS).label("ids")
    scores = sa.func.array_agg(aggregate_order_by(paged.c.score, *in_order), type_=_FLOATS).label("scores")
    typo_words = _typo_words().is_not(None) if shape.text else sa.false()
    statement = sa.select(
        sa.select(sa.func.count()).select_from(matched).scalar_subquery().label("total"),
        *(_facet_counts(matched, name).label(f"facet_{name}") for name in shape.facets),
        ids,
        scores,
        typo_words.label("typo_words"),
    ).select_from(paged)
    return DriverStatement(statement, read=True)


@functools.lru_cache(maxsize=2)
def books_with_passages(text: bool) -> DriverStatement:
    """The books of `ids` with their passages that match the text (<b>…</b> around the words)."""
    passage = books.c.title + " — " + books.c.description
    headline = (
        sa.func.ts_headline(TEXT_SEARCH_CONFIG, passage, _tsquery(_folded()), HEADLINE_OPTIONS)
        if text
        else sa.literal("")
    )
    ids = sa.cast(sa.bindparam("ids", type_=_UUIDS), _UUIDS)
    return DriverStatement(
        BOOKS_WITH_COUNTS.add_columns(headline.label("highlight")).where(books.c.id == sa.any_(ids)), read=True
    )


def _facet_counts(matched: sa.CTE, name: str) -> sa.ScalarSelect[Any]:
    """The FACET_SIZE most frequent non-empty values of a facet among the matches, as [[value, count], ...]
    (count_facet's rules; each value of a list field counts once per book that has it)."""
    column = matched.c[name]
    value = (sa.func.unnest(column) if name in LIST_FACETS else column).label("value")
    values = sa.select(value).select_from(matched).subquery("values")
    empty: Any = 0 if name == "publication_year" else ""
    count = sa.func.count().label("n")
    tie = values.c.value if name == "publication_year" else values.c.value.collate("C")  # code point order
    counted = (
        sa.select(values.c.value, count)
        .where(values.c.value != empty)
        .group_by(values.c.value)
        .order_by(count.desc(), tie)
        .limit(FACET_SIZE)
        .subquery("counted")
    )
    pairs = sa.func.json_agg(sa.func.json_build_array(counted.c.value, counted.c.n))
    return sa.select(sa.type_coerce(pairs, JSON)).scalar_subquery()


def _folded() -> sa.ColumnElement[str]:
    """The search text, case-folded as the stored search columns are."""
    return sa.func.catalog_fold(sa.bindparam("query", type_=sa.Text))


def _tsquery(folded: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    return sa.func.websearch_to_tsquery(TEXT_SEARCH_CONFIG, folded)


def _typo_words() -> sa.ScalarSelect[Any]:
    """What a typo-tolerant match compares: the text from its first to its last word that full text keeps (not
    a stop word: "the", "of", "и") of MIN_TYPO_WORD letters or more; NULL when there is none, which matches
    nothing, through the index. Stop words at either end went into the comparison: "the" alone matched a third
    of the catalogue, "of the gardn" every title with "of the", each match scored (0.4 s at 50,000 titles).
    Those between two words stay: the similarity is to a stretch of the title ("mastr and margerita")."""
    word = (
        sa.func.regexp_split_to_table(_folded(), sa.literal_column(r"'\s+'"))
        .table_valued("value", with_ordinality="n")
        .render_derived(name="word")
    )
    significant = sa.and_(
        sa.func.char_length(word.c.value) >= sa.literal_column(str(MIN_TYPO_WORD)),
        sa.func.length(sa.func.to_tsvector(TEXT_SEARCH_CONFIG, word.c.value)) > sa.literal_column("0"),
    )
    kept = sa.select(
        word.c.value,
        word.c.n,
        sa.func.min(sa.case((significant, word.c.n))).over().label("first"),
        sa.func.max(sa.case((significant, word.c.n))).over().label("last"),
    ).subquery("kept")
    joined = sa.func.string_agg(kept.c.value, aggregate_order_by(sa.literal_column("' '"), kept.c.n))
    return sa.select(joined).where(kept.c.n.between(kept.c.first, kept.c.last)).scalar_subquery()


def _matching(shape: Shape) -> tuple[list[sa.ColumnElement[bool]], sa.ColumnElement[float]]:
    """What a search matches (full text, and with `typos` the trigram match too) and how it scores a match.
    Full text alone ranks by ts_rank. With typos a match's similarity to the text's significant words is added,
    so a misspelt title ranks with the full-text matches; it is the costly part of a search (a trigram
    comparison per match, ~10 us: 14 of 18 ms for the 1,219 books of "garden"), so it is paid only by the
    searches that find too little. Every page of one search is ranked by the same statement (the choice
    depends only on the number of full-text matches). A text of stop words only, which full text drops,
    matches the titles that are exactly it (a btree look-up), as a reader searching "It" expects."""
    where = [_FILTERS[name]() for name in shape.filters]
    if not shape.text:
        return where, sa.cast(sa.literal(0.0), sa.Float)
    folded = _folded()
    tsquery = _tsquery(folded)
    # The text as typed, and without what surrounds its words: a title "It!" is found by "It!" as by "it".
    keys = [sa.func.catalog_title_key(sa.bindparam(name, type_=sa.Text), type_=sa.Text) for name in ("query", "title")]
    exact_title = sa.and_(sa.func.numnode(tsquery) == 0, sa.func.catalog_title_key(books.c.title).in_(keys))
    matches: list[sa.ColumnElement[bool]] = [books.c.search_vector.op("@@")(tsquery), exact_title]
    score: sa.ColumnElement[Any] = sa.func.ts_rank(books.c.search_vector, tsquery)
    score = score + sa.case((exact_title, EXACT_TITLE_SCORE), else_=0.0)
    if shape.typos:
        typo_words = _typo_words()
        matches.append(typo_words.op("<%")(books.c.search_text))
        score = score + SIMILARITY_WEIGHT * sa.func.coalesce(
            sa.func.word_similarity(typo_words, books.c.search_text), 0
        )
    if shape.isbn:
        isbn = sa.bindparam("isbn", type_=sa.Text)
        matches.append(books.c.isbn == isbn)
        score = score + sa.case((books.c.isbn == isbn, EXACT_ISBN_SCORE), else_=0.0)
    return [*where, sa.or_(*matches)], sa.cast(score, sa.Float)
