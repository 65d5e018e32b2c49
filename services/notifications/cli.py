"""`athenaeum notifications …`: commands for the people who word the notifications.

    athenaeum notifications preview hold_ready --locale ru      # a built-in template, with sample values
    athenaeum notifications check my_template.txt --kind overdue  # what UpdateNotificationTemplate would say

Both run without a database: they use the built-in templates and the same sandboxed renderer.
"""

from __future__ import annotations

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

    template = BUILTIN.get(f"{kind}_{channel}_{locale}")
    if template is None:
        console.print(
            f"no template {kind}_{channel}_{locale}; kinds: {', '.join(sorted({t.kind for t in BUILTIN.values()}))}"
        )
        raise typer.Exit(1)
    rendered = JinjaRenderer().render(template, {name: f"<{name}>" for name in template.available})
    if rendered.subject:
        console.print(f"Subject: {rendered.subject}\n", markup=False)
    console.print(rendered.text, markup=False)


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="A file with a template body (Jinja2).", exists=True, dir_okay=False)],
    kind: Annotated[str, typer.Option(help="The kind it is for: what variables it may use.")],
) -> None:
    """Report what would make UpdateNotificationTemplate refuse this body (the line and why)."""
    from dataclasses import replace

    from services.notifications.data.rendering import JinjaRenderer
    from services.notifications.data.template_seeds import BUILTIN

    base = BUILTIN.get(f"{kind}_sms_en")
    if base is None:
        console.print(f"unknown kind {kind!r}")
        raise typer.Exit(1)
    problems = JinjaRenderer().problems(replace(base, body=path.read_text(encoding="utf-8")))
    for problem in problems:
        console.print(f"{path}:{problem.line}: {problem.message}", markup=False)
    if problems:
        raise typer.Exit(1)
    console.print("ok: it compiles and uses only " + ", ".join(sorted(base.available)))


if __name__ == "__main__":
    app()
