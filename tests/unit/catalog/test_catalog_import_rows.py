"""CSV rows of ImportBooks and the demo generator, without I/O."""

import pytest

from services.catalog import demo
from services.catalog.importing import ParsedRow, RowError, parse_header, parse_row
from services.support.runtime.errors import InvalidArgument

COLUMNS = parse_header("isbn,title,authors,publication_year,copies")


def test_a_row_gives_clean_details_and_copies_per_branch() -> None:
    row = parse_row(COLUMNS, 1, '080442957X,"Dead Souls, Vol. 1",Gogol;Гоголь,1842,MAIN:2;EAST:1', current_year=2026)
    assert isinstance(row, ParsedRow)
    assert (row.details.isbn, row.details.title, row.details.authors) == (
        "9780804429573",
        "Dead Souls, Vol. 1",
        ("Gogol", "Гоголь"),
    )
    assert row.copies == (("MAIN", 2), ("EAST", 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('1234,"T",,,', "book.isbn"),
        ('," ",,,', "book.title"),
        (',"T",,1842', "expected 5 fields"),
        (',"T",,next year,', "not a year"),
        (',"T",,,lots', "copies"),
    ],
)
def test_a_bad_row_is_reported_with_its_number_and_reason(text: str, expected: str) -> None:
    row = parse_row(COLUMNS, 7, text, current_year=2026)
    assert isinstance(row, RowError) and row.row == 7
    assert row.message.startswith("row 7:") and expected in row.message


@pytest.mark.parametrize("header", ["", "title,colour", "isbn", "title,title"])
def test_a_bad_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_header(header)


def test_the_demo_library_is_deterministic_valid_and_multilingual() -> None:
    columns = parse_header(demo.HEADER)
    rows = list(demo.rows(400, seed=7))
    assert rows == list(demo.rows(400, seed=7)) != list(demo.rows(400, seed=8))
    parsed = [parse_row(columns, n, text, current_year=2026) for n, text in enumerate(rows, 1)]
    assert all(isinstance(p, ParsedRow) for p in parsed)
    assert {p.details.language for p in parsed} >= {"en", "ru"}
    assert len({p.details.isbn for p in parsed}) == 400
    assert sum(n for p in parsed for _, n in p.copies) / 400 > 2.5  # 10,000 titles give > 25,000 copies
