"""`athenaeum loans …`: operations on the loans service's own data.

    athenaeum loans forget-accounts   # after the users database was restored from a backup

They talk to the loans database directly (no edge, no token): whoever runs them holds the service's settings.
Also run as `python -m services.loans.cli …` where only the service's image is at hand.
"""

from __future__ import annotations

import typer
from rich.console import Console

from services.support.runtime.operator_commands import run_on_database

app = typer.Typer(help="Loans: the projection of accounts.", no_args_is_help=True)
console = Console()


@app.callback()
def _commands() -> None:
    """Operations on the loans database (a group, even with one command: `athenaeum loans forget-accounts`)."""


@app.command("forget-accounts")
def forget_accounts() -> None:
    """Empty the projection of accounts loans lends by. Needed when the users database went back in time (a
    restore from a backup): its accounts' versions went back too, and the projection would keep the newer,
    undone ones. Issues ask the users service until new events bring each account back."""
    forgotten = run_on_database(_forget(), service="loans", console=console)
    console.print(f"forgot {forgotten} accounts; issues ask the users service until their next change")


async def _forget() -> int:
    # Imported here: `athenaeum --help` loads this module and must stay fast.
    from services.loans.api import events
    from services.loans.app.patrons import forget_accounts as forget
    from services.loans.data.unit_of_work import SqlLoansUnitOfWork
    from services.loans.settings import LoansSettings
    from services.support.runtime.engine import create_engine, session_factory

    settings = LoansSettings()
    engine = create_engine(settings)
    try:
        encode = events.encoder(settings.library_zone)
        return await forget(uow=SqlLoansUnitOfWork(session_factory(engine), encode=encode))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    app()
