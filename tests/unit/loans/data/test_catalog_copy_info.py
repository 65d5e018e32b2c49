"""What loans reads of the catalog's Copy: whether it is not for loan, which PlaceHold refuses a hold by."""

from __future__ import annotations

from athenaeum.catalog.v1 import catalog_pb2
from services.loans.data.peers import copy_info


def test_a_copy_not_for_loan_is_read_as_such_and_one_that_does_not_say_as_lendable() -> None:
    name = "books/b-1/copies/c-1"
    assert copy_info(catalog_pb2.Copy(name=name, item_type="REFERENCE", not_for_loan=True)).not_for_loan
    assert not copy_info(catalog_pb2.Copy(name=name, item_type="BOOK")).not_for_loan
