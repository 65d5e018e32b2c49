"""The demo library puts its copies at the library's branches: a library that lists MAIN,EAST refuses a row with a
copy at NORTH, and the all-or-nothing import then loaded nothing (README's own example list)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.catalog import cli
from services.catalog.api import demo


def _branches_of(rows: list[str]) -> set[str]:
    copies = [record[-1] for record in csv.reader(rows)]
    return {part.split(":")[0] for column in copies for part in column.split(";")}


def test_the_demo_puts_copies_only_at_the_branches_it_is_given() -> None:
    assert _branches_of(list(demo.rows(300, branches=("MAIN", "EAST")))) == {"MAIN", "EAST"}
    assert _branches_of(list(demo.rows(50, branches=("CENTRAL",)))) == {"CENTRAL"}


def test_without_branches_the_demo_is_the_same_four_branch_library_as_before() -> None:
    assert list(demo.rows(200)) == list(demo.rows(200, branches=demo.BRANCHES))
    assert _branches_of(list(demo.rows(200))) == {"MAIN", "EAST", "WEST", "NORTH"}


def test_the_demo_refuses_an_empty_branch_list() -> None:
    with pytest.raises(ValueError, match="at least one branch"):
        list(demo.rows(1, branches=()))


def _written(tmp_path: Path, args: list[str], env: dict[str, str]) -> set[str]:
    written = tmp_path / "demo.csv"
    result = CliRunner().invoke(cli.app, ["demo", "--titles", "200", "--output", str(written), *args], env=env)
    assert result.exit_code == 0, result.output
    return _branches_of(written.read_text(encoding="utf-8").splitlines()[1:])


def test_the_demo_command_takes_the_library_branches_setting_or_its_option(tmp_path: Path) -> None:
    assert _written(tmp_path, [], {"ATHENAEUM_LIBRARY_BRANCHES": " main , EAST"}) == {"main", "EAST"}
    assert _written(tmp_path, ["--branches", "WEST"], {"ATHENAEUM_LIBRARY_BRANCHES": "MAIN,EAST"}) == {"WEST"}
    assert _written(tmp_path, [], {"ATHENAEUM_LIBRARY_BRANCHES": ""}) == set(demo.BRANCHES)


def test_a_branch_list_the_services_would_refuse_is_refused_by_the_demo_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.app, ["demo", "--titles", "3", "--output", str(tmp_path / "d.csv"), "--branches", "MAIN,,EAST"]
    )
    assert result.exit_code == 2 and "a branch code is empty" in " ".join(result.output.split())
    assert "--branches" in CliRunner().invoke(cli.app, ["demo", "--help"]).output
