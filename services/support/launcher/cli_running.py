"""What `athenaeum up` does once the mesh runs: it prints where everything is, restarts what crashes and
carries out the requests of other shells (`athenaeum restart NAME`) until it is stopped."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from rich.table import Table

from services.support.launcher.cli_options import console


def supervise_until_interrupted(mesh: Any, control: Any) -> None:
    """Restart what crashes (with backoff, giving up after repeated crashes) and carry out requests from
    other shells (`athenaeum restart NAME`), until Ctrl-C or `athenaeum down`."""
    from services.support.launcher.processes import RestartPolicy

    policy = RestartPolicy()
    idle = threading.Event()
    while True:
        idle.wait(0.5)
        for event in mesh.supervise(policy):
            console.print(f"[yellow]{event}[/yellow]", soft_wrap=True)
        for request in control.pending():
            _carry_out(mesh, request)


def _carry_out(mesh: Any, request: Any) -> None:
    name = str(request.command.get("restart", ""))
    known = [process.name for process in mesh.processes]
    if name not in known:
        request.answer(ok=False, error=f"no process called {name!r}; known: {', '.join(known)}")
        return
    console.print(f"[yellow]restarting {name} (asked from another shell)[/yellow]")
    try:
        mesh.restart(name, wait=False)
    except Exception as error:  # reported to the asking shell; the mesh goes on
        request.answer(ok=False, error=f"{name} did not start: {error}")
        return
    request.answer(ok=True)


def print_ready(mesh: Any) -> None:
    console.print(f"[green]Mesh ready in {mesh.startup_seconds:.1f}s[/green]")
    table = Table("endpoint", "address", show_header=False)
    for name, address in mesh.endpoints().items():
        table.add_row(name, address)
    table.add_row("logs", str(mesh.data_dir / "logs"))
    console.print(table)
    if mesh.sinks_password_file is not None:
        console.print(
            f"The mail and SMS pages ask for user athenaeum and the password in {_shortest(mesh.sinks_password_file)}"
            " (or list them with `athenaeum mail` and `athenaeum mail --sms`).",
            markup=False,
            soft_wrap=True,
        )
    if not mesh.envoys:
        return
    descriptor = _shortest(mesh.topology.descriptor_path)
    grpcurl = _shortest(Path(sys.executable).parent / "grpcurl")  # the grpcurl wheel of the dev extra
    console.print("Try:")
    console.print(f"  curl -s '{mesh.edge_url}/v1/books?page_size=5'", markup=False, soft_wrap=True)
    console.print(
        f"  {grpcurl} -plaintext -protoset {descriptor} -d '{{\"page_size\": 5}}' "
        f"{mesh.edge_grpc_target} athenaeum.catalog.v1.CatalogService/ListBooks",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"  curl -s {mesh.edge_admin_url}/clusters", markup=False, soft_wrap=True)
    console.print("Ctrl-C (or `athenaeum down`) stops everything.")


def _shortest(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
