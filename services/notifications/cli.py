"""`athenaeum notifications …`: commands for the people who word the notifications.

    athenaeum notifications preview hold_ready --locale ru      # a built-in template, with sample values
    athenaeum notifications check my_template.txt --kind overdue  # what UpdateNotificationTemplate would say

Both run without a database: they use the built-in templates and the same sandboxed renderer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Notifications: preview and check templates.", no_args_is_help=True)
console = Console()


@app.command()
def preview(
    kind: Annotated[str, typer.Argument(help="e.g. hold_ready, due_soon, overdue, welcome")],
    locale: Annotated[str, typer.Option(help="en or ru")] = "en",
    channel: Annotated[str, typer.Option(help="email or sms")] = "email",
) -> None:
    """Render a built-in template with a sample value for every variable."""
    from services.notifications.data.rendering import JinjaRenderer
    from services.notifications.data.template_seeds import BUILTIN
    from services.notifications.domain.sms_text import is_gsm7, plain, segments

    template = BUILTIN.get(f"{kind}_{channel}_{locale}")
    if template is None:
        console.print(f"no template {kind}_{channel}_{locale}; kinds: {_kinds()}")
        raise typer.Exit(1)
    rendered = JinjaRenderer().render(template, {name: f"<{name}>" for name in template.available})
    if rendered.subject:
        console.print(f"Subject: {rendered.subject}\n", markup=False)
    if channel != "sms":
        console.print(rendered.text, markup=False)
        return
    text = plain(rendered.text.strip())  # as sent: see domain/sms_text.py
    alphabet = "GSM-7" if is_gsm7(text) else "UCS-2"
    console.print(f"{text}\n\n({len(text)} characters, {alphabet}, {segments(text)} segment(s))", markup=False)


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="A file with a template body (Jinja2).", exists=True, dir_okay=False)],
    kind: Annotated[str, typer.Option(help="The kind it is for: what variables it may use.")],
    channel: Annotated[str, typer.Option(help="email or sms (an SMS is shorter)")] = "email",
) -> None:
    """Report what would make UpdateNotificationTemplate refuse this body (the line and why): the same
    checks, its sizes and channel rules first, then what the renderer finds."""
    from dataclasses import replace

    from services.notifications.data.rendering import JinjaRenderer
    from services.notifications.data.template_seeds import BUILTIN

    base = BUILTIN.get(f"{kind}_{channel}_en")
    if base is None:
        console.print(f"unknown kind {kind!r} or channel {channel!r}; kinds: {_kinds()}; channels: email, sms")
        raise typer.Exit(1)
    edited = replace(base, body=_utf8_text(path))
    violations = [v for v in edited.violations(prefix="") if v.field == "body_template"]
    for violation in violations:
        console.print(f"{path}: {violation.description}", markup=False)
    if violations:
        raise typer.Exit(1)
    problems = asyncio.run(JinjaRenderer().problems(edited))
    for problem in problems:
        console.print(f"{path}:{problem.line}: {problem.message}", markup=False)
    if problems:
        raise typer.Exit(1)
    console.print("ok: it compiles and uses only " + ", ".join(sorted(base.available)))


def _kinds() -> str:
    from services.notifications.data.template_seeds import BUILTIN

    return ", ".join(sorted({template.kind for template in BUILTIN.values()}))


def _utf8_text(path: Path) -> str:
    """The file's text; a file that is not UTF-8 is named with its first bad line (the service takes UTF-8 only)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        console.print(f"{path}:{line}: not UTF-8 text; save it as UTF-8", markup=False)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
