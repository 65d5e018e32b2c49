"""`athenaeum users …`: operator commands of the users service (they read the same ATHENAEUM_* settings).

    athenaeum users rotate-keys                      # add a signing key (e.g. monthly, or after a leak)
    athenaeum users restore-admin admin@example.org  # create an admin, or make that account one again

They talk to the users database directly (no edge, no token): whoever runs them holds the service's
settings. Also run as `python -m services.users.cli …` where only the service's image is at hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from services.support.runtime.operator_commands import run_on_database

if TYPE_CHECKING:
    from services.users.domain.accounts import User
    from services.users.domain.signing_keys import SigningKey

app = typer.Typer(help="Users: signing-key rotation, restoring an admin.", no_args_is_help=True)
console = Console()


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Add a token signing key: published at once, signing after the activation delay (settings)."""
    key = run_on_database(_rotate(), service="users", console=console)
    console.print(f"key {key.kid} published now, signs from {key.activates_at.isoformat()}")


async def _rotate() -> SigningKey:
    # Imported here: `athenaeum --help` loads this module and must stay fast.
    from datetime import timedelta

    from services.support.runtime.clock import SystemClock
    from services.support.runtime.engine import create_engine
    from services.users.app.signing_keys import RotateSigningKey, rotate_signing_key
    from services.users.main import signing_keys
    from services.users.settings import UsersSettings

    settings = UsersSettings()
    engine = create_engine(settings)
    try:
        command = RotateSigningKey(activation_delay=timedelta(seconds=settings.key_activation_delay_seconds))
        return await rotate_signing_key(command, keys=signing_keys(engine, settings), clock=SystemClock())
    finally:
        await engine.dispose()


@app.command("restore-admin")
def restore_admin(
    email: Annotated[str, typer.Argument(help="The admin's email: a new account, or an existing one.")],
    password_file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Read the new password from this file (else it is asked for)."),
    ] = None,
) -> None:
    """Create an active admin, or make an existing account an active admin again with a new password (its
    sessions end): the way back in when the last admin is gone, blocked or has forgotten the password. Done
    once the running users service has put the change on the message bus; without it, exit code 1."""
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise typer.BadParameter("not UTF-8 text", param_hint="'--password-file'") from None
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    user = run_on_database(_restore_admin(email, password), service="users", console=console)
    console.print(f"{user.name} ({user.profile.email}) is an active admin; sign in with the new password")


async def _restore_admin(email: str, password: str) -> User:
    from functools import partial

    from services.support.runtime.clock import SystemClock
    from services.support.runtime.engine import create_engine, session_factory
    from services.support.runtime.outbox_relay import wait_published
    from services.users.api import events
    from services.users.app.admins import RestoreAdmin, restore_admin
    from services.users.data.passwords import Argon2Passwords
    from services.users.data.unit_of_work import SqlUsersUnitOfWork
    from services.users.settings import UsersSettings

    settings = UsersSettings()
    engine = create_engine(settings)
    try:
        # Its events wait in the outbox for the running service's relay to publish them (at its next poll): the
        # command waits for that as long as the service waits for its own.
        announce = partial(wait_published, engine, within=settings.announce_timeout_seconds)
        uow = SqlUsersUnitOfWork(session_factory(engine), encode=events.encode, announce=announce)
        command = RestoreAdmin(email, password)
        return await restore_admin(command, uow=uow, clock=SystemClock(), passwords=Argon2Passwords())
    finally:
        await engine.dispose()


if __name__ == "__main__":
    app()
