"""What the `athenaeum` commands share: their consoles and the options several of them take."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[3]
DataDir = Annotated[
    Path,
    typer.Option("--data-dir", envvar="ATHENAEUM_DATA_DIR", help="Logs, certificates, Postgres and JetStream data."),
]
FoundDataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="ATHENAEUM_DATA_DIR",
        show_default=False,
        help="The mesh's data folder (default: the one the last `up` from this folder used).",
    ),
]


def known_services(names: list[str] | None) -> list[str] | None:
    """A usage error (exit 2) for a name that is no service: a typo migrated nothing and said it was done."""
    from services.support.mesh.registry import BY_NAME  # here: `athenaeum --help` stays fast

    unknown = [name for name in names or () if name not in BY_NAME]
    if unknown:
        raise typer.BadParameter(f"unknown service {unknown[0]!r}; known: {', '.join(BY_NAME)}")
    return names


Only = Annotated[
    list[str] | None,
    typer.Option("--only", callback=known_services, help="Run only these services (repeatable)."),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="DATABASE_URL", help="Use this Postgres server instead of a local one."),
]
PostgresTcp = Annotated[
    bool,
    typer.Option(
        envvar="ATHENAEUM_POSTGRES_TCP",
        help="The bundled Postgres listens on 127.0.0.1 too (for a tool that cannot use its socket): any local "
        "account may then reach it and fill its connection slots.",
    ),
]
DEFAULT_DATA_DIR = Path(".athenaeum")


def found_data_dir(data_dir: Path | None) -> Path:
    from services.support.launcher.state import locate

    return data_dir if data_dir is not None else locate(DEFAULT_DATA_DIR)
