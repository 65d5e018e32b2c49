# ruff: noqa: RUF001, RUF002  (Cyrillic on purpose: a currency written as a Russian word)
"""The loans settings refuse what would fail later, at start-up."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.loans.settings import LoansSettings


def test_the_library_time_zone_is_utc_unless_set_and_must_be_an_iana_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LoansSettings().library_time_zone == "UTC"
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", "Europe/Moscow")
    assert LoansSettings().library_time_zone == "Europe/Moscow"
    for wrong in ("Mars/Olympus_Mons", "../etc/passwd", ""):
        monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", wrong)
        with pytest.raises(ValidationError, match="is not an IANA time zone"):
            LoansSettings()


@pytest.mark.parametrize("no_place", ["localtime", "Factory", "posix/Europe/Moscow", "right/UTC", "Europe"])
def test_the_library_time_zone_refuses_the_names_a_users_time_zone_refuses(
    monkeypatch: pytest.MonkeyPatch, no_place: str
) -> None:
    """ZoneInfo loads them ("localtime" is the server's own clock, UTC in a container): the library's days
    silently followed the host's."""
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", no_place)
    with pytest.raises(ValidationError, match="names that are no place"):
        LoansSettings()


def test_the_library_zone_is_the_named_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENAEUM_LIBRARY_TIME_ZONE", "America/Santiago")
    assert LoansSettings().library_zone == ZoneInfo("America/Santiago")


def test_a_reminder_at_the_due_time_itself_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """It went out after the due time, telling an overdue patron the loan was due and could be renewed."""
    assert 0 not in LoansSettings().reminder_schedule_days
    monkeypatch.setenv("ATHENAEUM_REMINDER_SCHEDULE_DAYS", "[-3, 0, 1]")
    with pytest.raises(ValidationError, match="at the due time"):
        LoansSettings()


def test_the_library_branches_are_read_from_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LoansSettings().branches.codes == ()  # none listed: any code
    monkeypatch.setenv("ATHENAEUM_LIBRARY_BRANCHES", "MAIN, EAST")
    assert LoansSettings().branches.codes == ("MAIN", "EAST")
    monkeypatch.setenv("ATHENAEUM_LIBRARY_BRANCHES", "MAIN,EAST,main")
    with pytest.raises(ValidationError, match="main is listed twice"):
        LoansSettings()


def test_the_currency_code_is_three_ascii_letters_upper_cased(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "руб." was taken and stored on every fine; the web's money formatting threw on it and the reader's page
    showed no fines at all."""
    assert LoansSettings().currency_code == "RUB"
    monkeypatch.setenv("ATHENAEUM_CURRENCY_CODE", "eur")
    assert LoansSettings().currency_code == "EUR"
    for wrong in ("руб.", "РУБ", "RU", "RUBL", "R B", "", "US$"):
        monkeypatch.setenv("ATHENAEUM_CURRENCY_CODE", wrong)
        with pytest.raises(ValidationError, match="is not an ISO 4217 currency code"):
            LoansSettings()


def test_the_library_wide_limits_are_not_negative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENAEUM_MAX_OUTSTANDING_FINES", "-1")
    with pytest.raises(ValidationError):
        LoansSettings()
    monkeypatch.setenv("ATHENAEUM_MAX_OUTSTANDING_FINES", "10.00")
    monkeypatch.setenv("ATHENAEUM_MAX_OVERDUE_LOANS", "-1")
    with pytest.raises(ValidationError):
        LoansSettings()
