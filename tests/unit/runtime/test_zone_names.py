"""A time zone is a place of the zone database: users' `time_zone` and the zone notifications print times in
both go through `zone_named`."""

from __future__ import annotations

import pytest

from services.support.runtime.clock import zone_named


@pytest.mark.parametrize(
    "name", ["Europe/Moscow", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+3", "Asia/Kolkata"]
)
def test_the_database_s_zones_are_zones(name: str) -> None:
    zone = zone_named(name)
    assert zone is not None and zone.key == name


@pytest.mark.parametrize(
    "name",
    [
        "localtime",  # whatever the server's clock is set to: not the reader's place
        "Factory",  # a placeholder that prints "-00"
        "posix/Europe/Moscow",  # files of the database's folder that are no zone name (they were accepted)
        "right/UTC",
        "Europe",  # a folder
        "europe/moscow",
        "Mars/Olympus",
        "../../etc/passwd",
        "Atlantis" * 40,
        "",
    ],
)
def test_other_names_are_none(name: str) -> None:
    assert zone_named(name) is None
