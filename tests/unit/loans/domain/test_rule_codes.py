"""A rule's keys are ASCII codes, checked before upper-casing: "ß" is refused, never folded into "SS"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.loans.domain.codes import UnknownItemType
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import InvalidArgument

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
# Sharp s (str.upper: "SS"), dotless i ("I"), long s ("S"), fullwidth a b (kept fullwidth), a zero-width space.
FOLDING = ["\u00df", "DV\u0131", "\u017fTAFF", "\uff41\uff42", "BO\u200bOK", "B O"]


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> set[str]:
    return {violation.field for violation in error.value.violations}


@pytest.mark.parametrize("code", FOLDING)
def test_a_non_ascii_or_spaced_item_type_is_refused_not_upper_cased(code: str) -> None:
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms("ADULT", code).validated(now=NOW)
    assert fields(bad) == {"circulation_rule.item_type"}
    assert "ASCII" in bad.value.violations[0].description


@pytest.mark.parametrize("code", FOLDING)
def test_a_non_ascii_or_spaced_patron_category_is_refused_not_upper_cased(code: str) -> None:
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms(code, "BOOK").validated(now=NOW)
    assert fields(bad) == {"circulation_rule.patron_category"}


def test_ascii_codes_are_trimmed_and_upper_cased_and_the_wildcard_stays() -> None:
    terms = RuleTerms(" child_2 ", "dvd-blu", loan_period_days=3).validated(now=NOW)
    assert (terms.patron_category, terms.item_type) == ("CHILD_2", "DVD-BLU")
    assert RuleTerms(" * ", "*").validated(now=NOW).item_type == "*"


def test_codes_are_bounded_as_the_catalog_and_accounts_keep_them() -> None:
    with pytest.raises(InvalidArgument) as bad:
        RuleTerms("1ADULT", "B" * 21).validated(now=NOW)
    assert fields(bad) == {"circulation_rule.patron_category", "circulation_rule.item_type"}
    assert RuleTerms("A" * 32, "B" * 20).validated(now=NOW).item_type == "B" * 20


def test_a_stored_rule_with_an_old_key_keeps_it_and_its_terms_stay_editable() -> None:
    """Rules stored before codes were checked (an "SS" folded from "ß" is fine; a non-ASCII key is not) are
    not refused for their key when an admin changes something else."""
    old = CirculationRule.create(RuleTerms("ADULT", "BOOK"), now=NOW)
    old.terms = replace(old.terms, item_type="LIVRE\u00c9")  # as an older version could store it
    old.update(replace(old.terms, loan_period_days=21), now=NOW)
    assert (old.terms.item_type, old.terms.loan_period_days) == ("LIVRE\u00c9", 21)
    with pytest.raises(InvalidArgument):
        old.update(replace(old.terms, item_type="livre\u00e9"), now=NOW)


def test_an_unknown_item_type_is_invalid_argument_with_the_catalogs_reason() -> None:
    error = UnknownItemType("BOK")
    assert error.reason == "UNKNOWN_ITEM_TYPE"
    assert error.violations[0].field == "circulation_rule.item_type"
    assert "BOK" in str(error) and "itemTypes" in str(error)
