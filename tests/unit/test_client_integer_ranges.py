"""The Python client refuses an integer its field cannot hold instead of sending it wrapped to another."""

from __future__ import annotations

import pytest
from athenaeum_client import Client, RequestSerializationError, catalog, loans
from athenaeum_client.calls import _Encoder


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (catalog.CreateBookRequest(book=catalog.Book(title="Wrap", publication_year=2**32 + 1999)), "publication_year"),
        (catalog.CreateBookRequest(book=catalog.Book(title="Wrap", publication_year=-(2**31) - 1)), "publication_year"),
        (catalog.ListBooksRequest(page_size=2**40), "page_size"),
    ],
)
def test_a_number_out_of_its_fields_range_never_leaves(request_: object, field: str) -> None:
    with Client("127.0.0.1:1", timeout=1) as client:  # nothing listens there: the refusal comes first
        creating = isinstance(request_, catalog.CreateBookRequest)
        method = client.catalog.create_book if creating else client.catalog.list_books
        with pytest.raises(RequestSerializationError, match=field) as refused:
            method(request_)  # type: ignore[arg-type]
    assert isinstance(refused.value, ValueError)


def test_nested_repeated_and_map_integers_are_checked_and_the_limits_themselves_pass() -> None:
    encode = _Encoder()
    rule = loans.CirculationRule(patron_category="*", item_type="*", max_loans=2**31 - 1, loan_period_days=-(2**31))
    assert encode(loans.CreateCirculationRuleRequest(circulation_rule=rule))
    with pytest.raises(RequestSerializationError, match=r"circulation_rule\.max_holds: 2147483648 is not an int32"):
        encode(loans.CreateCirculationRuleRequest(circulation_rule=loans.CirculationRule(max_holds=2**31)))
    assert encode.failure is not None
