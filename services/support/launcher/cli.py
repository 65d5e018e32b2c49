"""`athenaeum`: run the whole mesh on this machine, and the developer commands around it.

Heavy modules (grpc, SQLAlchemy, the launcher itself) are imported inside the commands, so `athenaeum
test` and `athenaeum --help` start instantly.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from typing import Annotated

import typer

from services.support.launcher import cli_tools
from services.support.launcher.cli_options import (
    DEFAULT_DATA_DIR,
    DatabaseUrl,
    DataDir,
    FoundDataDir,
    Only,
    console,
    errors,
    found_data_dir,
)
from services.support.launcher.cli_running import print_ready, supervise_until_interrupted
from services.support.launcher.control import ControlServer
from services.support.mesh import registry

app = typer.Typer(help="Athenaeum: a library system as a gRPC service mesh.", no_args_is_help=True)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_version(value: bool) -> None:
    if value:
        from services.support.runtime.release import version

        console.print(f"athenaeum {version()}")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Options before the command."""
    if ctx.invoked_subcommand in {spec.name for spec in registry.SERVICES}:  # its operator commands
        from services.support.launcher.recorded_database import use_the_recorded_database

        ctx.call_on_close(use_the_recorded_database(str(ctx.invoked_subcommand)))


@app.command()
def up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    edge_port: Annotated[int, typer.Option(min=1, max=65535, help="REST/JSON and gRPC edge.")] = 8080,
    admin_port: Annotated[int, typer.Option(min=1, max=65535, help="The edge Envoy's admin.")] = 9901,
    port_base: Annotated[
        int, typer.Option(min=1, max=65000, help="First of the ports for services, sidecars and infra.")
    ] = 7100,
    only: Only = None,
    infra_only: Annotated[bool, typer.Option(help="Only Postgres and NATS (run services yourself).")] = False,
    database_url: DatabaseUrl = None,
    nats_url: Annotated[str | None, typer.Option(envvar="NATS_URL", help="Use this NATS server.")] = None,
    envoy_log_level: str = "warn",
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            envvar="ATHENAEUM_CORS_ORIGINS",
            help="A browser origin allowed to call the edge cross-origin (repeat it, or comma-separate the variable).",
        ),
    ] = None,
) -> None:
    """Start Postgres, NATS, every service, its sidecar and the edge; Ctrl-C stops everything."""
    from services.support.launcher.layout import local_mesh_topology
    from services.support.launcher.mesh import LocalMesh
    from services.support.launcher.sink_servers import SinkAddresses
    from services.support.launcher.state import MeshAlreadyRunning, forget_pointer, point_to
    from services.support.mesh.topology import sequential_ports

    try:
        data_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as error:
        raise typer.BadParameter(f"cannot make that folder: {error.strerror}", param_hint="'--data-dir'") from None
    ports = sequential_ports(port_base)
    origins = tuple(origin.strip() for value in cors_origin or () for origin in value.split(",") if origin.strip())
    topology = local_mesh_topology(
        data_dir, ports=ports, edge_port=edge_port, edge_admin_port=admin_port, cors_origins=origins
    )
    mesh = LocalMesh(
        data_dir,
        topology,
        database_url=database_url,
        nats_url=nats_url,
        services=() if infra_only else only,
        envoys=not infra_only,
        postgres_port=next(ports),
        nats_port=next(ports),
        sinks=SinkAddresses(next(ports), next(ports), next(ports)),
        envoy_log_level=envoy_log_level,
        progress=lambda step: console.print(f"  [green]✓[/green] {step}"),
        warn=lambda line: console.print(line, style="yellow", markup=False, soft_wrap=True),
    )
    # SIGTERM comes from `athenaeum down`; SIGINT is set explicitly as a background job starts with it ignored.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_interrupt)
    try:
        mesh.claim()  # before anything that the running mesh's `down`/`status` rely on is touched
    except MeshAlreadyRunning as refusal:
        errors.print(f"athenaeum: {refusal}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    previous = point_to(data_dir, DEFAULT_DATA_DIR)  # `down` and `status` find this mesh without --data-dir
    try:
        with console.status("Starting the mesh…"):
            mesh.start()
        print_ready(mesh)
        with ControlServer(mesh.data_dir) as control:
            supervise_until_interrupted(mesh, control)
    except KeyboardInterrupt:
        console.print("\nStopping…")
    finally:
        mesh.stop()
        forget_pointer(data_dir, DEFAULT_DATA_DIR, previous)
    console.print("Stopped.")


@app.command()
def down(data_dir: FoundDataDir = None) -> None:
    """Stop the mesh started by `athenaeum up` from another shell."""
    from services.support.launcher.state import stop_recorded_mesh

    stopped = stop_recorded_mesh(found_data_dir(data_dir))
    console.print(f"Stopped: {', '.join(stopped)}" if stopped else "No mesh is running.")


@app.command()
def restart(
    name: Annotated[str, typer.Argument(help='A service, "<service>-sidecar", "edge", "postgres" or "nats".')],
    data_dir: FoundDataDir = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait until it is healthy again.")] = 60.0,
) -> None:
    """Restart one process of the mesh running from another shell and wait until it is healthy."""
    import time

    from services.support.launcher.control import send
    from services.support.launcher.state import is_same_process, read_state

    data_dir = found_data_dir(data_dir)
    try:
        reply = send(data_dir, {"restart": name})
    except ConnectionError as error:
        console.print(str(error))
        raise typer.Exit(1) from None
    if not reply.get("ok"):
        console.print(f"[red]{reply.get('error', 'refused')}[/red]")
        raise typer.Exit(1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recorded = read_state(data_dir) or {"processes": [], "endpoints": {}}
        entry = next((e for e in recorded["processes"] if e["name"] == name), None)
        if (
            entry is not None
            and is_same_process(entry["pid"], entry["create_time"])
            and (cli_tools.process_health(entry) in cli_tools.HEALTHY)
        ):
            console.print(f"{name} restarted and healthy.")
            return
        time.sleep(0.2)
    console.print(f"[red]{name} restarted but is not healthy after {timeout:.0f} s[/red]")
    raise typer.Exit(1)


for command in cli_tools.COMMANDS:
    app.command()(command)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(cli_tools.test)


def _add_service_commands() -> None:
    """A service may bring commands of its own: services/<name>/cli.py with a typer `app` becomes
    `athenaeum <name> …` (e.g. `athenaeum catalog demo`). They import typer and rich only: --help stays fast."""
    for spec in registry.SERVICES:
        module = f"services.{spec.name}.cli"
        if importlib.util.find_spec(module) is not None:
            app.add_typer(importlib.import_module(module).app, name=spec.name)


_add_service_commands()


def main() -> None:
    """The `athenaeum` command: the CLI, with a short message instead of a traceback when a call fails."""
    try:
        app()
    except Exception as error:
        message = _failed_call(error) or _failed_start(error)
        if message is None:
            raise
        errors.print(message, markup=False, soft_wrap=True)
        raise SystemExit(1) from None


def _failed_call(error: Exception) -> str | None:
    """What to tell about a failed gRPC call (grpc is loaded only by the commands that make calls)."""
    grpc = sys.modules.get("grpc")
    if grpc is None or not isinstance(error, grpc.RpcError) or not hasattr(error, "code"):
        return None
    code, details = error.code(), error.details()
    if code == grpc.StatusCode.UNAVAILABLE:
        return (
            f"athenaeum: the edge is unreachable ({details}).\n"
            "Is the mesh running (`athenaeum status`)? Another edge: --target or ATHENAEUM_EDGE=host:port."
        )
    return f"athenaeum: {code.name}: {details}"


def _failed_start(error: Exception) -> str | None:
    """What to tell when `up` could not start a process of the mesh (it stopped the others already)."""
    from services.support.launcher.ownership import NotOurs
    from services.support.launcher.processes import ProcessFailed
    from services.support.launcher.readiness import NotReady
    from services.support.launcher.server_account import NoServerAccount

    # PermissionError: e.g. a data folder other accounts cannot traverse, which a root launcher's Postgres needs.
    if not isinstance(error, ProcessFailed | NotReady | NoServerAccount | NotOurs | PermissionError):
        return None
    taken = "already in use" in str(error) or "EADDRINUSE" in str(error)
    hint = "\nA port it needs is taken (another mesh? `athenaeum down`), or give others: --port-base, --edge-port."
    return f"athenaeum: the mesh did not start: {error}{hint if taken else ''}"


if __name__ == "__main__":
    main()
