import pytest

from services.support.runtime import pagination
from services.support.runtime.errors import InvalidArgument


def test_page_size_defaults_and_is_capped() -> None:
    assert pagination.page_size(0) == pagination.DEFAULT_PAGE_SIZE
    assert pagination.page_size(10_000) == pagination.MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        pagination.page_size(-1)


def test_a_token_round_trips_for_the_same_query_only() -> None:
    query = pagination.fingerprint("ListBooks", "", "")
    token = pagination.encode_token(["2026-01-01T00:00:00+00:00", "abc"], query)
    assert pagination.decode_token(token, query) == ["2026-01-01T00:00:00+00:00", "abc"]
    with pytest.raises(InvalidArgument, match="different query"):
        pagination.decode_token(token, pagination.fingerprint("ListBooks", "language = ru", ""))


@pytest.mark.parametrize("token", ["garbage", "e30", "!!!"])
def test_a_forged_token_is_an_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument):
        pagination.decode_token(token, "q")


@pytest.mark.parametrize("cursor", [["\u0000"], ["a\u0000b", 1], ["\ud800"], [{"x": 1}], [[1]]])
def test_a_forged_cursor_no_query_can_take_is_an_invalid_token(cursor: list) -> None:
    """A NUL or a lone surrogate reached Postgres and was answered INTERNAL (ListCopies is public)."""
    query = pagination.fingerprint("ListCopies", "-", "")
    token = pagination.encode_token(cursor, query)
    with pytest.raises(InvalidArgument, match="not a token this service issued"):
        pagination.decode_token(token, query)


def test_a_cursor_of_any_other_text_or_numbers_is_kept() -> None:
    query = pagination.fingerprint("ListBooks", "", "")
    cursor = ["Мастер и Маргарита\u200b", 3, 2.5, None, True]
    assert pagination.decode_token(pagination.encode_token(cursor, query), query) == cursor
