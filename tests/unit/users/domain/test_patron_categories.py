"""An account's patron category is an ASCII code matched whole: the loans service keys its rules by it."""

from __future__ import annotations

import pytest

from services.users.domain.validation import category_violation


@pytest.mark.parametrize(
    "category",
    # Sharp s, dotless i, long s, fullwidth letters (each str.upper-folds to or looks like an ASCII code), a
    # trailing newline ("$" matched before it), lower case, a digit first, 33 characters.
    ["\u00df", "CH\u0131LD", "\u017fTAFF", "\uff21DULT", "ADULT\n", "adult", "1ADULT", "A" * 33],
)
def test_a_category_that_is_not_an_ascii_code_is_refused(category: str) -> None:
    violation = category_violation(category, field="user.patron_category")
    assert violation is not None and violation.field == "user.patron_category"


@pytest.mark.parametrize("category", ["ADULT", "CHILD_2", "A" * 32])
def test_ascii_categories_are_kept(category: str) -> None:
    assert category_violation(category) is None
