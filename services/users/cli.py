"""`athenaeum users …`: operator commands of the users service (they read the same ATHENAEUM_* settings).

    athenaeum users rotate-keys     # add a signing key (e.g. monthly, or after a leak)

Also runs as `python -m services.users.cli rotate-keys` where only the service's image is at hand.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from services.users.domain.signing_keys import SigningKey

app = typer.Typer(help="Users: signing-key rotation.", no_args_is_help=True)
console = Console()


@app.callback()
def _group() -> None:
    """Keeps `rotate-keys` a subcommand while it is the only one."""


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Add a token signing key: published at once, signing after the activation delay (settings)."""
    key = asyncio.run(_rotate())
    console.print(f"key {key.kid} published now, signs from {key.activates_at.isoformat()}")


async def _rotate() -> SigningKey:
    # Imported here: `athenaeum --help` loads this module and must stay fast.
    from datetime import timedelta

    from services.support.runtime.clock import SystemClock
    from services.support.runtime.db import create_engine
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


if __name__ == "__main__":
    app()
