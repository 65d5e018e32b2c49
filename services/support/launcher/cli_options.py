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
Only = Annotated[list[str] | None, typer.Option("--only", help="Run only these services (repeatable).")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="DATABASE_URL", help="Use this Postgres server instead of a local one."),
]
DEFAULT_DATA_DIR = Path(".athenaeum")


def found_data_dir(data_dir: Path | None) -> Path:
    from services.support.launcher.state import locate

    return data_dir if data_dir is not None else locate(DEFAULT_DATA_DIR)
