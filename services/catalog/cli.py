"""`athenaeum catalog …`: load a CSV catalogue, or a generated demo library, through the ImportBooks stream.

Imports are all or nothing (see services/catalog/app/importing.py): a file with a bad row changes nothing,
and every bad row is listed with its line in the file.
"""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.support.launcher.edge_client import CaFile, DataDir, Edge, Target, Tls, access_token, find_edge

app = typer.Typer(help="Catalog: bulk imports and demo data.", no_args_is_help=True)
console = Console()

Token = Annotated[str | None, typer.Option("--token", envvar="ATHENAEUM_TOKEN", help="A staff access token (Bearer).")]
Email = Annotated[
    str | None,
    typer.Option(
        "--email",
        help="Sign in as this staff account instead of --token: asks for its password (or reads ATHENAEUM_PASSWORD).",
    ),
]
BatchSize = Annotated[int, typer.Option("--batch", min=1, help="Rows per stream message.")]
Branches = Annotated[
    str | None,
    typer.Option(
        "--branches",
        envvar="ATHENAEUM_LIBRARY_BRANCHES",
        show_default="ATHENAEUM_LIBRARY_BRANCHES when set, else MAIN,EAST,WEST,NORTH",
        help="The branch codes to spread the demo's copies over, separated by commas (e.g. MAIN,EAST). A library "
        "that lists its branches refuses a copy at any other, and the import is all or nothing: give its list.",
    ),
]


def csv_records(lines: Iterable[str]) -> tuple[str, Iterator[tuple[int, str]]]:
    """The header, and each data row re-serialised on one line with the file line it started on."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise typer.BadParameter("the file is empty")

    def records() -> Iterator[tuple[int, str]]:
        line = reader.line_num + 1
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="")
        for values in reader:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(values)
            yield line, buffer.getvalue()
            line = reader.line_num + 1

    return ",".join(header), records()


def stream_import(
    header: str, records: Iterator[tuple[int, str]], *, total: int | None, edge: Edge, token: str | None, batch: int
) -> int:
    """Streams the rows with a progress bar; prints the outcome; returns a process exit code."""
    from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc

    lines: list[int] = []
    progress = Progress(
        TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )

    def messages() -> Iterator[catalog_pb2.ImportBooksRequest]:
        first = True
        while chunk := list(itertools.islice(records, batch)):
            lines.extend(line for line, _ in chunk)
            yield catalog_pb2.ImportBooksRequest(header=header if first else "", rows=[row for _, row in chunk])
            first = False
            progress.update(task, advance=len(chunk))

    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    started = time.perf_counter()
    with progress, edge.channel() as channel:
        task = progress.add_task("import", total=total)
        response = catalog_pb2_grpc.CatalogServiceStub(channel).ImportBooks(messages(), metadata=metadata)
    elapsed = time.perf_counter() - started
    for error in response.errors:
        line = lines[error.row - 1] if 0 < error.row <= len(lines) else "?"
        console.print(f"[red]line {line}[/red]: {error.message}")
    if response.failed_count:
        console.print(f"[red]{response.failed_count} bad rows: nothing was imported (all or nothing).[/red]")
        return 1
    console.print(
        f"[green]{response.created_count} books created, {response.updated_count} updated "
        f"in {elapsed:.1f} s ({len(lines) / elapsed:,.0f} rows/s).[/green]"
    )
    return 0


def _data_rows(path: Path) -> int:
    """The file's CSV records but its header. A line that is not UTF-8 (a spreadsheet's CSV saved in Windows-1251,
    say) is named before anything is sent, not met as a decoding error halfway through the stream."""

    def lines() -> Iterator[str]:
        with path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                try:
                    yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise typer.BadParameter(
                        f"line {number} is not UTF-8 text: save the file as CSV in UTF-8 and import it again",
                        param_hint="'PATH'",
                    ) from None

    return max(sum(1 for _ in csv.reader(lines())) - 1, 0)


@app.command("import")
def import_csv(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file with a header row.")],
    target: Target = None,
    tls: Tls = False,
    ca_file: CaFile = None,
    data_dir: DataDir = None,
    token: Token = None,
    email: Email = None,
    batch: BatchSize = 500,
) -> None:
    """Import a CSV catalogue (columns as ImportBooks documents); a bad row rejects the whole file."""
    edge = find_edge(target, tls=tls, ca_file=ca_file, data_dir=data_dir)
    total = _data_rows(path)
    with path.open(newline="", encoding="utf-8-sig") as file:
        header, records = csv_records(file)
        code = stream_import(
            header, records, total=total, edge=edge, token=access_token(edge, token, email), batch=batch
        )
    raise typer.Exit(code)


def _demo_branches(listed: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """The codes of --branches (or the setting), checked as the services check the setting; `default` when none."""
    from services.support.runtime.branches import LibraryBranches

    try:
        codes = LibraryBranches.parse(listed or "").codes
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--branches'") from None
    return codes or default


@app.command()
def demo(
    titles: Annotated[int, typer.Option(min=1, help="How many titles (about 2.7 copies each).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Same seed, same library.")] = 42,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the CSV here instead.")] = None,
    target: Target = None,
    tls: Tls = False,
    ca_file: CaFile = None,
    data_dir: DataDir = None,
    token: Token = None,
    email: Email = None,
    batch: BatchSize = 1000,
    branches: Branches = None,
) -> None:
    """Generate a realistic multilingual library and load it through the edge (or write it as CSV with --output).

    Its copies are spread over --branches (the library's ATHENAEUM_LIBRARY_BRANCHES when set, else MAIN, EAST,
    WEST and NORTH)."""
    from services.catalog.api import demo as generator

    at = _demo_branches(branches, generator.BRANCHES)

    if output is not None:
        try:
            with output.open("w", encoding="utf-8", newline="") as file:
                file.write(generator.HEADER + "\n")
                file.writelines(row + "\n" for row in generator.rows(titles, seed=seed, branches=at))
        except OSError as error:
            raise typer.BadParameter(f"cannot write there: {error.strerror}", param_hint="'--output'") from None
        console.print(f"wrote {titles} titles to {output}")
        return
    edge = find_edge(target, tls=tls, ca_file=ca_file, data_dir=data_dir)
    signed_in = access_token(edge, token, email)
    rows = generator.rows(titles, seed=seed, branches=at)
    for first in range(0, titles, generator.TITLES_PER_IMPORT):  # an import is bounded; a large demo takes several
        count = min(generator.TITLES_PER_IMPORT, titles - first)
        records = ((first + number + 2, row) for number, row in enumerate(itertools.islice(rows, count)))
        code = stream_import(generator.HEADER, records, total=count, edge=edge, token=signed_in, batch=batch)
        if code:
            raise typer.Exit(code)
