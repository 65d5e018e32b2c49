"""Page tokens of the loans lists: a forged cursor (tokens are not signed) is refused, never a crash."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.loans.app.pages import newest_first_after, newest_first_cursor, number_after
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import encode_token

QUERY = "q"


def test_a_token_reads_back_as_the_cursor_it_was_made_from() -> None:
    moment, row_id = datetime(2026, 12, 3, 8, 30, tzinfo=UTC), uuid.uuid4()
    assert newest_first_after(encode_token(newest_first_cursor(moment, row_id), QUERY), QUERY) == (moment, row_id)
    assert number_after(encode_token([40], QUERY), QUERY) == 40
    assert number_after("", QUERY) is None and newest_first_after("", QUERY) is None


@pytest.mark.parametrize("cursor", [[10**30], [-1], [float("inf")], [float("nan")], ["x"], [None], [[1]]])
def test_a_forged_position_is_refused(cursor: list[object]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        number_after(encode_token(cursor, QUERY), QUERY)
    assert refused.value.violations[0].field == "page_token"


@pytest.mark.parametrize("cursor", [["yesterday", str(uuid.uuid4())], ["2026-12-03", "x"], [1, 2, 3], ["only one"]])
def test_a_forged_newest_first_cursor_is_refused(cursor: list[object]) -> None:
    with pytest.raises(InvalidArgument):
        newest_first_after(encode_token(cursor, QUERY), QUERY)
