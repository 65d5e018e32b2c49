"""Templates rendered with Jinja2 in its sandbox: strict about undefined variables, HTML autoescaped, each
template compiled once per version. An edit is checked here before it is stored: syntax (with the line),
variables the kind does not offer, and a trial render with sample values (what the sandbox refuses)."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from types import TracebackType

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2 import Template as Compiled
from jinja2.sandbox import SandboxedEnvironment

from services.notifications.app.ports import Rendered, RenderFailed
from services.notifications.domain.templates import Template, TemplateProblem

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
_SOURCE_NAME = "<template>"


def _environment(part: str) -> SandboxedEnvironment:
    return _HTML if part == "html_body_template" else _TEXT


@lru_cache(maxsize=1024)
def _compiled(part: str, source: str) -> Compiled:
    return _environment(part).from_string(source)


class JinjaRenderer:
    def problems(self, template: Template) -> list[TemplateProblem]:
        found: list[TemplateProblem] = []
        for part, source in template.parts().items():
            if not source:
                continue
            environment = _environment(part)
            try:
                parsed = environment.parse(source)
            except TemplateSyntaxError as error:
                found.append(TemplateProblem(part, error.lineno or 0, error.message or "syntax error"))
                continue
            unknown = sorted(meta.find_undeclared_variables(parsed) - template.available)
            for name in unknown:
                found.append(
                    TemplateProblem(
                        part, _line_of(source, name), f"uses {name!r}, which {template.kind} does not offer"
                    )
                )
            if not unknown:
                found.extend(self._trial(template, part, source))
        return found

    def _trial(self, template: Template, part: str, source: str) -> list[TemplateProblem]:
        """Render with a sample value for every variable: what fails here would fail at send time."""
        try:
            _compiled(part, source).render(dict.fromkeys(template.available, "sample"))
        except Exception as error:  # the sandbox, a filter, arithmetic: any failure refuses the edit
            return [TemplateProblem(part, _failing_line(sys.exc_info()[2]), str(error)[:200] or type(error).__name__)]
        return []

    def variables(self, template: Template) -> frozenset[str]:
        used: set[str] = set()
        for part, source in template.parts().items():
            if source:
                used |= meta.find_undeclared_variables(_environment(part).parse(source))
        return frozenset(used)

    def render(self, template: Template, variables: Mapping[str, str]) -> Rendered:
        try:
            subject = _compiled("subject_template", template.subject).render(variables) if template.subject else ""
            text = _compiled("body_template", template.body).render(variables)
            html = _compiled("html_body_template", template.html).render(variables) if template.html else ""
        except Exception as error:  # a template stored before a rule existed, a value it chokes on
            raise RenderFailed(f"{template.name}: {error}") from error
        return Rendered(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)


def _line_of(source: str, name: str) -> int:
    """The first line that mentions the variable (what a person fixing the template needs)."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for number, line in enumerate(source.splitlines(), start=1):
        if pattern.search(line):
            return number
    return 0


def _failing_line(trace: TracebackType | None) -> int:
    """The template line a render error happened on (Jinja2 rewrites tracebacks to point into templates)."""
    line = 0
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == _SOURCE_NAME:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
