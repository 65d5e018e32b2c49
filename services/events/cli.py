"""`athenaeum events tail`: the activity log and audit trail, live in the terminal (WatchEvents)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.markup import escape

from services.support.launcher.edge_client import CaFile, DataDir, Target, Tls, access_token, find_edge

if TYPE_CHECKING:
    from athenaeum.events.v1 import events_pb2

app = typer.Typer(help="Events: the activity log and audit trail.", no_args_is_help=True)
console = Console()

Token = Annotated[str | None, typer.Option("--token", envvar="ATHENAEUM_TOKEN", help="A staff access token (Bearer).")]
Email = Annotated[str | None, typer.Option("--email", help="Sign in as this staff account instead of --token.")]
CATEGORIES = {"activity": 1, "audit": 2}
RECONNECT = ("UNAVAILABLE", "RESOURCE_EXHAUSTED")


def line(event: events_pb2.Event) -> str:
    """One event on one line: time, type, actor → subject, then its attributes."""
    stamp = event.occur_time.ToDatetime().strftime("%H:%M:%S.%f")[:-3]
    attributes = escape(" ".join(f"{k}={v}" for k, v in sorted(event.attributes.items()))[:200])
    who = escape(f"{event.actor or '-'} → {event.subject or '-'}")
    return f"[dim]{stamp}[/dim] [bold]{escape(event.type)}[/bold] {who} [dim]{attributes}[/dim]"


@app.command()
def tail(
    type: Annotated[str, typer.Option("--type", help='Exact type, or a prefix ending in "." (athenaeum.loans.).')] = "",
    actor: Annotated[str, typer.Option(help="Only this actor (users/…).")] = "",
    subject: Annotated[str, typer.Option(help="Only this subject (loans/…, books/…).")] = "",
    category: Annotated[str, typer.Option(help="activity or audit.")] = "",
    filter: Annotated[str, typer.Option("--filter", help='AIP-160 subset, e.g. resource = "loans/…".')] = "",
    heartbeats: Annotated[bool, typer.Option(help="Show the heartbeats of a quiet stream.")] = False,
    target: Target = None,
    tls: Tls = False,
    ca_file: CaFile = None,
    data_dir: DataDir = None,
    token: Token = None,
    email: Email = None,
) -> None:
    """Follow events as they are recorded (Ctrl-C stops); reconnects when the stream is cut."""
    import grpc

    from athenaeum.events.v1 import events_pb2, events_pb2_grpc

    if category and category not in CATEGORIES:
        raise typer.BadParameter("activity or audit", param_hint="--category")
    edge = find_edge(target, tls=tls, ca_file=ca_file, data_dir=data_dir)
    metadata = (("authorization", f"Bearer {access_token(edge, token, email)}"),)
    kind = cast("events_pb2.EventCategory.ValueType", CATEGORIES.get(category, 0))
    request = events_pb2.WatchEventsRequest(type=type, actor=actor, subject=subject, category=kind, filter=filter)
    with edge.channel() as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        while True:
            try:
                for event in stub.WatchEvents(request, metadata=metadata):
                    if event.name:
                        console.print(line(event), highlight=False)
                    elif heartbeats:
                        console.print("[dim]· heartbeat[/dim]")
            except KeyboardInterrupt:
                return
            except grpc.RpcError as error:
                call = cast(grpc.Call, error)
                code, details = call.code().name, escape(call.details() or "")
                if code not in RECONNECT:
                    console.print(f"[red]{code}[/red]: {details}")
                    raise typer.Exit(1) from None
                console.print(f"[yellow]{code}: {details}; reconnecting[/yellow]")
                time.sleep(1.0)
