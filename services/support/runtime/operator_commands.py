"""Operator commands that work on a database directly (`athenaeum <service> …`, `python -m
services.<service>.cli …`, `athenaeum migrate`): what the service refuses them, and a database they cannot
reach or use, are told in one line with exit code 1, not a traceback (whoever runs `restore-admin` is having a
bad day already)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console

from services.support.runtime.errors import DependencyUnavailable, DomainError

Result = TypeVar("Result")


@contextmanager
def failures_told(database: str, console: Console, *, check: str = "ATHENAEUM_DATABASE_URL") -> Iterator[None]:
    """End the program (exit code 1) with one line for a refusal or for `database` ("the users database")
    unreachable or unusable, naming the setting to `check`; anything else keeps its traceback (a bug)."""
    from asyncpg import PostgresError  # imported here: `athenaeum --help` loads every service's CLI
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DependencyUnavailable as error:  # not a refusal: the message says what is done and what is not
        console.print(error.message, markup=False)
    except DomainError as error:
        console.print(f"refused: {error.message}", markup=False)
    except (OSError, DBAPIError, PostgresError) as error:  # PostgresError: from asyncpg used directly
        cause = getattr(error, "orig", None) or error
        console.print(f"{database} cannot be used ({cause}): check {check}", markup=False)
    else:
        return
    raise typer.Exit(1)


def run_on_database(command: Coroutine[Any, Any, Result], *, service: str, console: Console) -> Result:
    """Run `command` to its end against `service`'s database."""
    with failures_told(f"the {service} database", console):
        return asyncio.run(command)
    raise AssertionError("unreachable: failures_told ends the program")  # for the type checker
