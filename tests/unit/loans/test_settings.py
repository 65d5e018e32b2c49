"""The loans settings refuse what would fail later, at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.loans.settings import LoansSettings


def test_the_library_time_zone_is_utc_unless_set_and_must_be_an_iana_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LoansSettings().library_time_zone == "UTC"
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", "Europe/Moscow")
    assert LoansSettings().library_time_zone == "Europe/Moscow"
    for wrong in ("Mars/Olympus_Mons", "../etc/passwd", ""):
        monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", wrong)
        with pytest.raises(ValidationError, match="not the IANA name of a time zone"):
            LoansSettings()


def test_a_reminder_at_the_due_time_itself_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """It went out after the due time, telling an overdue patron the loan was due and could be renewed."""
    assert 0 not in LoansSettings().reminder_schedule_days
    monkeypatch.setenv("ATHENAEUM_REMINDER_SCHEDULE_DAYS", "[-3, 0, 1]")
    with pytest.raises(ValidationError, match="at the due time"):
        LoansSettings()
