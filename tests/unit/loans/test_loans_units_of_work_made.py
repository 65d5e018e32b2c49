"""The loans service's units of work carry what the settings fix (the library's branches, the encoder in its time
zone), made once when the service is built, not again for each unit of work."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.loans.data.calendar_cache import ClosedDayCache
from services.loans.data.rule_cache import RuleCache
from services.loans.domain.branches import LibraryBranches
from services.loans.main import units_of_work
from services.loans.settings import LoansSettings
from services.support.runtime.infrastructure import Infrastructure


async def test_every_unit_of_work_has_the_librarys_branches_and_zone_read_from_the_settings_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    parse = LibraryBranches.parse.__func__  # type: ignore[attr-defined]

    def counted(cls: Any, listed: str) -> Any:
        parsed.append(listed)
        return parse(cls, listed)

    monkeypatch.setattr(LibraryBranches, "parse", classmethod(counted))
    settings = LoansSettings(library_branches="MAIN, East", library_time_zone="Asia/Vladivostok")
    infra = Infrastructure.open("loans", settings)  # nothing connects
    try:
        made = units_of_work(
            infra, settings, rule_cache=RuleCache(ttl_seconds=1), closed_day_cache=ClosedDayCache(ttl_seconds=1)
        )
        units = [made() for _ in range(3)]
        for uow in units:
            assert uow.branches.spelled("east", field="branch") == "East" and not uow.branches.known("WEST")
            assert uow._encode.keywords["zone"] == ZoneInfo("Asia/Vladivostok")  # type: ignore[attr-defined]
        assert parsed == ["MAIN, East"]
    finally:
        await infra.close_database()
