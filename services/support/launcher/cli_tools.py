"""The commands around a running mesh and the repository: `status`, `mail`, `migrate`, `generate`, `test`.
Registered on the `athenaeum` app by cli.py; like it, they import heavy modules only when they run."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Column, Table

from services.support.launcher.cli_options import (
    DEFAULT_DATA_DIR,
    REPO_ROOT,
    DataDir,
    FoundDataDir,
    Only,
    console,
    found_data_dir,
)

if TYPE_CHECKING:
    from services.support.launcher.sink_servers import SinkClient

HEALTHY = ("SERVING", "LIVE", "OK")


def status(data_dir: FoundDataDir = None) -> None:
    """Health of every process of the running mesh; exit code 1 if anything is not healthy."""
    from services.support.launcher.state import is_same_process, read_state, running_launcher

    data_dir = found_data_dir(data_dir)
    recorded = read_state(data_dir)
    if recorded is None or running_launcher(data_dir) is None:
        console.print("No mesh is running.")
        raise typer.Exit(1)
    # Piped output (a log, a CI job) is 80 columns wide: cells fold rather than end in an ellipsis, and the
    # metrics URLs are listed below the table, each on a line of its own that is never cut.
    table = Table(*(Column(header, overflow="fold") for header in ("process", "pid", "health", "restarts")))
    healthy = bool(recorded.get("ready"))
    if not healthy:
        console.print("The mesh is still starting.")
    for entry in recorded["processes"]:
        alive = is_same_process(entry["pid"], entry["create_time"])
        health = process_health(entry) if alive else "DEAD"
        if entry.get("gave_up"):
            health = "GAVE UP (crashing)"
        healthy &= health in HEALTHY
        colour = "green" if health in HEALTHY else "red"
        table.add_row(
            entry["name"],
            str(entry["pid"]),
            f"[{colour}]{health}[/{colour}]",
            str(entry.get("restarts", 0)),
        )
    console.print(table)
    _print_metrics_urls(recorded)
    raise typer.Exit(0 if healthy else 1)


def _print_metrics_urls(recorded: dict[str, Any]) -> None:
    """Each service's own /metrics URL (the edge's admin has none of its metrics), one per line, whole."""
    endpoints = recorded.get("endpoints", {})
    urls = [(entry["name"], endpoints.get(f"{entry['name']} metrics")) for entry in recorded["processes"]]
    urls = [(name, url) for name, url in urls if url]
    if not urls:
        return
    console.print("metrics:")
    width = max(len(name) for name, _ in urls)
    for name, url in urls:
        console.print(f"  {name:<{width}}  {url}", markup=False, highlight=False, soft_wrap=True)


def process_health(entry: dict[str, Any]) -> str:
    """One recorded process's health, asked the way its kind answers (gRPC health, Envoy's admin, a query)."""
    from services.support.launcher.nats import jetstream_answers
    from services.support.launcher.readiness import envoy_is_live, http_body, service_health

    role = entry.get("role")
    if role == "service":
        return service_health(entry["health_target"])
    if role == "envoy":
        return "LIVE" if envoy_is_live(entry["admin_port"]) else "NOT LIVE"
    if role == "postgres":
        return _postgres_health(entry)
    if role == "nats":
        ca_file = Path(entry["ca_file"]) if entry.get("ca_file") else None
        return "OK" if jetstream_answers(entry["port"], pid=entry["pid"], ca_file=ca_file) else "UNHEALTHY"
    if role == "sink":
        return "OK" if http_body(f"{entry['url']}/stats") is not None else "NOT ANSWERING"
    return "UNKNOWN"


def _postgres_health(entry: dict[str, Any]) -> str:
    """Whether the local server lets its superuser in with the password it was given: the recorded URL's
    `***` would be refused (a failed sign-in in its log at every call) by a server that may refuse the real
    one too. Through its socket, never its loopback port (whoever held that would get the password)."""

    from services.support.launcher.postgres import PostgresServer
    from services.support.launcher.recorded_database import RecordedPostgres

    try:
        recorded = RecordedPostgres(int(entry["port"]), Path(entry["password_file"]), Path(entry["socket_dir"]))
        admin_url = recorded.admin_url()
    except (KeyError, OSError):
        return "NOT CHECKED (its password or socket is not known here)"
    return "OK" if PostgresServer(admin_url).accepts_connections() else "NOT ACCEPTING"


def mail(
    show: Annotated[int, typer.Option(min=0, help="Print message number N in full (its text part).")] = 0,
    last: Annotated[int, typer.Option(min=1, help="How many of the latest messages to list.")] = 20,
    sms: Annotated[bool, typer.Option("--sms", help="The SMS sink instead of the mail sink.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """What the mesh's notifications sent: the local mail (or SMS) sink's messages; the web page is its URL."""
    from services.support.launcher.sink_servers import SinkClient, password_file
    from services.support.launcher.state import read_state

    recorded = read_state(data_dir)
    url = (recorded or {}).get("endpoints", {}).get("sms" if sms else "mail")
    if not url:
        console.print("No mesh is running (start one with `athenaeum up`).")
        raise typer.Exit(1)
    secret = password_file(data_dir / "sinks")
    try:
        password = secret.read_text().strip()
    except OSError as error:  # another account's mesh, or its folder is gone: its messages are not ours to read
        console.print(f"The sinks' password ({secret}) is not readable here: {error.strerror}.", markup=False)
        raise typer.Exit(1) from None
    sink = SinkClient(url, password=password)
    try:
        if show:
            _show_message(sink, show, sms=sms)
            return
        messages = sink.messages()
    except OSError as error:  # the mesh was stopped since, or the sink died: no traceback for that
        console.print(f"The {'SMS' if sms else 'mail'} sink at {url} does not answer ({error}).", markup=False)
        raise typer.Exit(1) from None
    table = Table("#", "to", "subject" if not sms else "text", title=f"{len(messages)} messages · {url}")
    for item in messages[-last:]:
        to = item.get("to") or ", ".join(item.get("rcpt_tos", []))
        table.add_row(str(item["n"]), to, item.get("body") or item.get("headers", {}).get("Subject", ""))
    console.print(table)


def _show_message(sink: SinkClient, number: int, *, sms: bool) -> None:
    found = next(iter(sink.messages(since=number - 1)), None) if sms else sink.message(number)
    if found is None:
        listing = "athenaeum mail --sms" if sms else "athenaeum mail"
        console.print(f"The sink holds no message {number} (`{listing}` lists them).", markup=False)
        raise typer.Exit(1)
    console.print(found.get("body") or found.get("text", ""), markup=False, soft_wrap=True)


def migrate(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="DATABASE_URL",
            show_default=False,
            help="Admin URL of the Postgres server (default: ATHENAEUM_DATABASE_URL and ATHENAEUM_DATABASE_PASSWORD "
            "or _FILE, as the services read them; without them, the Postgres of the mesh `up` runs from the data "
            "folder, with its services' own roles).",
        ),
    ] = None,
    role_passwords: Annotated[
        str | None,
        typer.Option(
            "--role-passwords",
            envvar="ATHENAEUM_DATABASE_ROLE_PASSWORDS",
            show_default=False,
            help="Where each service's own Postgres password is: a file path with {service} in it (e.g. "
            "/run/secrets/postgres-password-{service}). Each service then has a role of its own (named as its "
            "database) owning its database, and no other; without it, every service shares the admin's account.",
        ),
    ] = None,
    only: Only = None,
    data_dir: FoundDataDir = None,
) -> None:
    """Create each service's database (and its role) if missing and apply its migrations."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from services.support.launcher.postgres import PostgresServer
    from services.support.mesh.registry import SERVICES
    from services.support.runtime.migrations import upgrade_to_head
    from services.support.runtime.operator_commands import failures_told
    from services.support.runtime.settings import BaseServiceSettings

    admin_url, role_passwords = _server_to_migrate(database_url, role_passwords, found_data_dir(data_dir))
    admin_url = admin_url or BaseServiceSettings().database_url
    try:
        make_url(admin_url)
    except ArgumentError:
        raise typer.BadParameter("not a database URL (postgresql+asyncpg://user@host:port/postgres)") from None
    server = PostgresServer(admin_url)
    with failures_told("the Postgres server", console, check="--database-url or ATHENAEUM_DATABASE_URL"):
        for spec in SERVICES:
            if only and spec.name not in only:
                continue
            if role_passwords:
                url = server.owned_database(spec.database, _role_password(role_passwords, spec.name))
            else:
                url = server.create_database(spec.database)
                _refuse_a_role_s_database(server, spec.database)
            upgrade_to_head(spec.name, url)
            console.print(f"migrated {spec.name} ({spec.database})")


def _server_to_migrate(
    database_url: str | None, role_passwords: str | None, data_dir: Path
) -> tuple[str | None, str | None]:
    """(admin URL, role passwords) to migrate with: those given, else the recorded mesh's Postgres with the
    passwords `up` keeps (its databases belong to the services' roles), else (None, given) for the settings."""
    from services.support.launcher.recorded_database import NAMED, recorded_postgres

    if database_url or any(os.environ.get(name) for name in NAMED):
        return database_url, role_passwords
    postgres = recorded_postgres(data_dir)
    if postgres is None:
        return None, role_passwords
    try:
        admin_url = postgres.admin_url()
    except OSError as error:
        raise typer.BadParameter(f"{postgres.password_file}: {error.strerror}", param_hint="'--data-dir'") from None
    console.print(f"migrating the Postgres of the mesh running from {data_dir} (its socket in {postgres.socket_dir})")
    return admin_url, role_passwords or postgres.role_password_template()


def _refuse_a_role_s_database(server: Any, database: str) -> None:
    """A database its service's role owns (an earlier `up` or `migrate --role-passwords` made it so) is migrated
    as that role only: as the administrator, the migrations would run what the role may have planted in it."""
    from services.support.launcher.database_roles import owner_of
    from services.support.launcher.postgres import asyncpg_dsn
    from services.support.launcher.readiness import run_coroutine

    if run_coroutine(owner_of(asyncpg_dsn(server.admin_url), database)) == database:
        raise typer.BadParameter(
            f"{database} belongs to its service's own role: migrate it with --role-passwords",
            param_hint="--role-passwords",
        )


def _role_password(template: str, service: str) -> str:
    if "{service}" not in template:
        raise typer.BadParameter("needs {service} where each service's name goes", param_hint="--role-passwords")
    path = Path(template.replace("{service}", service))
    try:
        password = path.read_text().strip()
    except OSError as error:
        raise typer.BadParameter(f"{path}: {error.strerror}", param_hint="--role-passwords") from None
    if not password:
        raise typer.BadParameter(f"{path} is empty", param_hint="--role-passwords")
    return password


def generate(check: Annotated[bool, typer.Option(help="Only list stale generated files.")] = False) -> None:
    """Regenerate the Python stubs, Envoy's descriptor set and the client from proto/."""
    from services.support.devtools import codegen

    if not check:
        codegen.generate(REPO_ROOT)
        console.print("generated")
        return
    stale = codegen.stale_files(REPO_ROOT)
    for path in stale:
        console.print(f"stale: {path}")
    raise typer.Exit(1 if stale else 0)


def test(ctx: typer.Context) -> None:
    """Run pytest with the given arguments (e.g. `athenaeum test tests/unit -x`); exits with its code."""
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *ctx.args])


COMMANDS = (status, mail, migrate, generate)
