"""Templates rendered with Jinja2 in its sandbox: strict about undefined variables, HTML autoescaped, each
template compiled once per version. An edit is checked here before it is stored: syntax (with the line),
variables the kind does not offer, and a trial render with sample values (what the sandbox refuses, and what
costs too much: the trial runs in a process of its own, see trial_render.py)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from types import TracebackType

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2 import Template as Compiled
from markupsafe import Markup, escape

from services.notifications.app.ports import Rendered, RenderFailed
from services.notifications.data.render_budget import BudgetedSandbox, render_within_budget
from services.notifications.data.trial_render import Problem, inspected_in_a_child
from services.notifications.domain.templates import Template, TemplateProblem


def _bare(*, autoescape: bool) -> BudgetedSandbox:
    """The sandbox without Jinja2's globals (lipsum, range, dict, cycler, joiner, namespace): a template prints
    its kind's variables, never a Python object's repr. Filters and tests stay. Every render is bounded in
    steps, time and sizes (render_budget.py), here and in the trial of an edit alike."""
    environment = BudgetedSandbox(undefined=StrictUndefined, autoescape=autoescape)
    environment.globals.clear()
    return environment


_TEXT = _bare(autoescape=False)
_HTML = _bare(autoescape=True)
_SOURCE_NAME = "<template>"


def _environment(part: str) -> BudgetedSandbox:
    return _HTML if part == "html_body_template" else _TEXT


@lru_cache(maxsize=1024)
def _compiled(part: str, source: str) -> Compiled:
    return _environment(part).from_string(source)


Inspection = Callable[[Mapping[str, str], frozenset[str], str], Awaitable[list[Problem]]]
"""Checks a template's parts against the variables its kind offers (the kind named in messages)."""


def render_part(part: str, source: str, values: Mapping[str, object]) -> str:
    return render_within_budget(_compiled(part, source), values)


def names_outside(parsed: nodes.Template, available: frozenset[str]) -> list[str]:
    """The names a template reads that are neither its kind's variables nor its own (set, for, macro
    arguments). Jinja2 gives some names to every template (`self`, `loop` in a for, `caller`, `varargs`),
    which find_undeclared_variables does not report: they would print Python object reprs."""
    own = {name.name for name in parsed.find_all(nodes.Name) if name.ctx in ("store", "param")}
    read = {name.name for name in parsed.find_all(nodes.Name) if name.ctx == "load"}
    return sorted(read - own - available)


@lru_cache(maxsize=1024)
def _reads_outside(part: str, source: str, available: frozenset[str]) -> tuple[str, ...]:
    return tuple(names_outside(_environment(part).parse(source), available))


def static_problems(parts: Mapping[str, str], available: frozenset[str], kind: str) -> tuple[list[Problem], list[str]]:
    """Syntax and variables the kind does not offer, part by part; and the parts that passed, to be tried.
    Evaluates the template: Jinja2 folds its constants while it compiles (`'x' * 10**9` included), so this
    runs where a trial runs (trial_render.py), never in the service."""
    found: list[Problem] = []
    passed: list[str] = []
    for part, source in parts.items():
        try:
            parsed = _environment(part).parse(source)
        except TemplateSyntaxError as error:
            found.append((part, error.lineno or 0, error.message or "syntax error"))
            continue
        unknown = names_outside(parsed, available)
        found += [(part, _line_of(source, name), f"uses {name!r}, which {kind} does not offer") for name in unknown]
        if not unknown:
            passed.append(part)
    return found, passed


class JinjaRenderer:
    def __init__(self, *, inspection: Inspection = inspected_in_a_child) -> None:
        self._inspection = inspection

    async def problems(self, template: Template) -> list[TemplateProblem]:
        parts = {part: source for part, source in template.parts().items() if source}
        found = await self._inspection(parts, template.available, str(template.kind)) if parts else []
        return [TemplateProblem(*problem) for problem in found]

    def variables(self, template: Template) -> frozenset[str]:
        used: set[str] = set()
        for part, source in template.parts().items():
            if source:
                used |= meta.find_undeclared_variables(_environment(part).parse(source))
        return frozenset(used)

    def render(self, template: Template, variables: Mapping[str, str]) -> Rendered:
        for part, source in template.parts().items():
            if source and (outside := _reads_outside(part, source, template.available)):
                # stored before edits were checked for these names: the built-in template is used instead
                raise RenderFailed(f"{template.name}: {part} uses {outside[0]!r}, which {template.kind} does not offer")
        try:
            subject = render_part("subject_template", template.subject, variables) if template.subject else ""
            text = render_part("body_template", template.body, variables)
            html = render_part("html_body_template", template.html, _in_html(variables)) if template.html else ""
        except Exception as error:  # a template stored before a rule existed, a value it chokes on, its cost
            raise RenderFailed(f"{template.name}: {error}") from error
        return Rendered(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)


def _in_html(values: Mapping[str, str]) -> dict[str, str]:
    """Values for an HTML part: one of several lines (a staff message) escaped, its line breaks made <br>; in
    HTML a line break is a space, and the message arrived as one run-on paragraph."""
    return {name: _html_lines(value) if "\n" in value or "\r" in value else value for name, value in values.items()}


def _html_lines(value: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in value.splitlines())


def _line_of(source: str, name: str) -> int:
    """The first line that mentions the variable (what a person fixing the template needs)."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for number, line in enumerate(source.splitlines(), start=1):
        if pattern.search(line):
            return number
    return 0


def failing_line(trace: TracebackType | None) -> int:
    """The template line a render error happened on (Jinja2 rewrites tracebacks to point into templates)."""
    line = 0
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == _SOURCE_NAME:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
