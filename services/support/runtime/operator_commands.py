"""Operator commands of a service (`athenaeum <service> …`, `python -m services.<service>.cli …`) that work on
its own database directly: what the service refuses them, and a database they cannot reach or use, are told
in one line with exit code 1, not a traceback (whoever runs `restore-admin` is having a bad day already)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console

from services.support.runtime.errors import DomainError

Result = TypeVar("Result")


def run_on_database(command: Coroutine[Any, Any, Result], *, service: str, console: Console) -> Result:
    """Run `command` to its end; a refusal or an unusable `service` database ends the program (exit code 1)."""
    from sqlalchemy.exc import DBAPIError  # imported here: `athenaeum --help` loads every service's CLI

    try:
        return asyncio.run(command)
    except DomainError as error:
        console.print(f"refused: {error.message}", markup=False)
    except (OSError, DBAPIError) as error:
        cause = getattr(error, "orig", None) or error
        console.print(f"the {service} database cannot be used ({cause}): check ATHENAEUM_DATABASE_URL", markup=False)
    raise typer.Exit(1)
