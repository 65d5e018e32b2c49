"""A projected account may only ever let a patron borrow, by the users service's own rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.loans.domain.patrons import PatronRecord

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_an_active_account_lends_with_its_category_and_branch() -> None:
    record = PatronRecord("users/ada", 3, "ACTIVE", patron_category="student", home_branch="MAIN")
    answer = record.lending_eligibility(NOW)
    assert answer is not None and answer.eligible
    assert (answer.patron, answer.patron_category, answer.home_branch) == ("users/ada", "STUDENT", "MAIN")
    assert PatronRecord("users/bo", 1, "ACTIVE").lending_eligibility(NOW).patron_category == "ADULT"  # type: ignore[union-attr]


def test_anything_but_an_active_unexpired_account_is_left_to_the_users_service() -> None:
    for status in ("BLOCKED", "DEACTIVATED", "EXPIRED", "UNSPECIFIED", "UNKNOWN_9"):
        assert PatronRecord("users/ada", 2, status).lending_eligibility(NOW) is None
    expired = PatronRecord("users/ada", 2, "ACTIVE", expire_at=NOW)
    assert expired.lending_eligibility(NOW) is None  # expiry as users counts it: at the instant, not after
    assert expired.lending_eligibility(NOW - timedelta(seconds=1)) is not None
