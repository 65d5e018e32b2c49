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


KINDS = {1: "ACTIVITY", 2: "AUDIT"}
SHOWN_CHARACTERS = 200


def literal(text: str) -> str:
    """`text` as Python writes a string literal: line breaks, control, bidi and other invisible characters
    escaped (\\n, \\x9b, \\u202e), so no value can start a line of its own or turn the others around."""
    return repr(text)


def plain(text: str) -> str:
    """`text` escaped as `literal` does, without the quotes (for names: the rules allow no space in them)."""
    return repr(text)[1:-1]


def line(event: events_pb2.Event) -> str:
    """One event on one line: time, category, type, actor → subject, then its attributes, each value
    escaped and quoted (a value sent by a reader cannot pass for another event, or another attribute)."""
    stamp = event.occur_time.ToDatetime().strftime("%H:%M:%S.%f")[:-3]
    kind = KINDS.get(event.category, str(event.category))
    style = "yellow" if kind == "AUDIT" else "dim"
    pairs = " ".join(f"{plain(k)}={literal(v)}" for k, v in sorted(event.attributes.items()))
    attributes = escape(pairs if len(pairs) <= SHOWN_CHARACTERS else pairs[:SHOWN_CHARACTERS] + "…")
    who = escape(f"{plain(event.actor or '-')} → {plain(event.subject or '-')}")
    return (
        f"[dim]{stamp}[/dim] [{style}]{kind:<8}[/{style}] [bold]{escape(plain(event.type))}[/bold] {who} "
        f"[dim]{attributes}[/dim]"
    )


def show(out: Console, event: events_pb2.Event) -> None:
    """Print `line(event)` as one line whatever the width (rich would wrap a long one into lines of its own)."""
    out.print(line(event), highlight=False, soft_wrap=True, emoji=False)


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
                        show(console, event)
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
