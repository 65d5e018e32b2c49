"""An operator command on a service's database: its result, or what was refused and a database that cannot be
used, told in one line with exit code 1."""

from __future__ import annotations

import io

import pytest
import typer
from rich.console import Console

from services.support.runtime.errors import FieldViolation, InvalidArgument
from services.support.runtime.operator_commands import run_on_database


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200), out


async def _answers() -> int:
    return 7


async def _refused() -> int:
    raise InvalidArgument(FieldViolation("password", "must be at least 10 characters"))


async def _unreachable() -> int:
    raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")


def test_a_command_that_succeeds_gives_its_result() -> None:
    console, out = _console()
    assert run_on_database(_answers(), service="loans", console=console) == 7
    assert out.getvalue() == ""


def test_a_refusal_is_one_line_and_exit_code_1() -> None:
    console, out = _console()
    with pytest.raises(typer.Exit) as ended:
        run_on_database(_refused(), service="users", console=console)
    assert ended.value.exit_code == 1
    assert out.getvalue() == "refused: password: must be at least 10 characters\n"


def test_a_database_that_cannot_be_reached_is_named_with_the_setting_to_check() -> None:
    console, out = _console()
    with pytest.raises(typer.Exit) as ended:
        run_on_database(_unreachable(), service="loans", console=console)
    assert ended.value.exit_code == 1
    said = out.getvalue()
    assert said.startswith("the loans database cannot be used (") and "ATHENAEUM_DATABASE_URL" in said
