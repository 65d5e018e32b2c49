"""An operator command on a service's database: its result, or what was refused and a database that cannot be
used, told in one line with exit code 1."""

from __future__ import annotations

import io
from collections.abc import Callable, Coroutine
from typing import Any

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


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (_refused, "refused: password: must be at least 10 characters\n"),
        (_unreachable, "the loans database cannot be used ([Errno 111] Connect call failed ('127.0.0.1', 9)): "),
    ],
    ids=["refused", "unreachable"],
)
def test_a_refusal_or_an_unusable_database_is_one_line_and_exit_code_1(
    command: Callable[[], Coroutine[Any, Any, int]], said: str
) -> None:
    console, out = _console()
    with pytest.raises(typer.Exit) as ended:
        run_on_database(command(), service="loans", console=console)
    assert ended.value.exit_code == 1
    assert out.getvalue().startswith(said) and out.getvalue().count("\n") == 1
