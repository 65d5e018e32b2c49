"""ImportBooks names a bad row one way: counted over the whole stream, as the file's row number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from athenaeum.catalog.v1 import catalog_pb2
from services.catalog.api.servicer import CatalogServicer
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.request_decoding import each_checked
from tests.unit.catalog.fakes import FakeCatalog

HEADER = "title,authors,publication_year,copies"


async def _import(*messages: catalog_pb2.ImportBooksRequest) -> catalog_pb2.ImportBooksResponse:
    """The call as the interceptor hands it over: each message of the stream through the boundary check."""

    async def stream() -> AsyncIterator[catalog_pb2.ImportBooksRequest]:
        for message in messages:
            yield message

    servicer = CatalogServicer(uow=FakeCatalog(), clock=FixedClock(datetime(2026, 12, 6, tzinfo=UTC)))
    return await servicer.ImportBooks(each_checked(stream(), True), None)


def _file(fifth: str) -> list[catalog_pb2.ImportBooksRequest]:
    return [
        catalog_pb2.ImportBooksRequest(header=HEADER, rows=["A,x,1990,1", "B,x,1991,1"]),
        catalog_pb2.ImportBooksRequest(rows=["C,x,1992,1", "D,x,1993,1", fifth]),
    ]


async def test_a_control_character_in_a_later_message_names_the_files_row() -> None:
    with pytest.raises(InvalidArgument) as refused:
        await _import(*_file("E\x00,x,1994,1"))
    (violation,) = refused.value.violations
    assert violation.field == "rows[4]" and violation.description.startswith("row 5: must not contain control")
    answer = await _import(*_file("E,x,notayear,1"))  # any other fault of that row: the same row 5
    assert [error.row for error in answer.errors] == [5]


async def test_a_bad_row_in_the_first_message_is_numbered_the_same_way() -> None:
    first = catalog_pb2.ImportBooksRequest(header=HEADER, rows=["A,x,1990,1", "B\x1b[2J,x,1991,1"])
    with pytest.raises(InvalidArgument) as refused:
        await _import(first)
    assert [(v.field, v.description[:6]) for v in refused.value.violations] == [("rows[1]", "row 2:")]
