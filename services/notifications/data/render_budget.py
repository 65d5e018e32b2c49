"""A render that cannot cost the service much, whatever the template and its values: Jinja2's sandbox stops a
template reaching outside it, this one also stops it spending.

The trial of an edit (trial_render.py) renders it with sample values; a template that branches on a value
(`{% if body|first != 'x' %}{{ body * 300000 }}{% endif %}`) passes the trial and takes the costly branch
with real values, in the service. So every render is bounded where it runs:

* steps: each iteration of a `for` loop and each call (a macro, a method, a filter) counts; at most
  MAX_STEPS, and none after RENDER_SECONDS of wall-clock time;
* sizes: no string or list an operator, a filter or a method makes may exceed MAX_VALUE_CHARS (a repetition
  is refused before it is made, as is a number over MAX_NUMBER handed to a filter or a method: a width, a
  count), a power's exponent is at most MAX_EXPONENT, and the whole output is at most MAX_OUTPUT_CHARS.

Between two checks a render does a bounded amount of work, so the whole of it is bounded. Past a limit the
render fails (RenderBudgetExceeded): at send time the built-in template is used instead, and an edit that
reaches one with sample values is refused.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template as Compiled
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_STEPS = 100_000
RENDER_SECONDS = 0.2
MAX_VALUE_CHARS = 200_000
MAX_OUTPUT_CHARS = 1_000_000
MAX_NUMBER = 1_000
MAX_EXPONENT = 64
_COUNTED = "_counted"
_WIDENING = frozenset({"center", "indent", "wordwrap", "batch", "slice", "ljust", "rjust", "zfill", "expandtabs"})
"""Filters and string methods whose numbers (a width, a count) make their result longer."""
_WIDE_FORMAT = re.compile(r"%[-+ #0]*\d*\.?\d{4,}|\{[^{}]*:[^{}]*\d{4,}[^{}]*\}")
"""A width or precision of four digits or more in a format string (%-style or {}-style)."""
_WIDTH_GIVEN = re.compile(r"%[-+ #0]*\d*\.?\*|\{[^{}]*:[^{}]*\{")
"""A width or precision the format string takes from its arguments."""


class RenderBudgetExceeded(SecurityError):
    """The template costs more to render than any notification may."""


@dataclass(slots=True)
class _Budget:
    steps: int
    deadline: float

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise RenderBudgetExceeded(f"more than {MAX_STEPS:,} loop iterations and calls")
        if time.monotonic() > self.deadline:
            raise RenderBudgetExceeded(f"more than {RENDER_SECONDS} s to render")


_BUDGET: ContextVar[_Budget | None] = ContextVar("render_budget", default=None)


def _step() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.step()


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_VALUE_CHARS:
        raise RenderBudgetExceeded(f"makes a value of more than {MAX_VALUE_CHARS:,} characters")
    return value


def _numbers_ok(args: Iterable[Any]) -> None:
    for value in args:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise RenderBudgetExceeded(f"widens by a number over {MAX_NUMBER:,}")
        if isinstance(value, tuple):
            _numbers_ok(value)


def _growth_ok(name: str, subject: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse before it is made what would be too long: a width or a count too large, a join or a replace
    that multiplies lengths."""
    if name in _WIDENING:
        _numbers_ok([*args, *kwargs.values()])
    if not isinstance(subject, str):
        return
    if name in ("format", "format_map"):
        if _WIDE_FORMAT.search(subject):
            raise RenderBudgetExceeded("formats with a width or precision too large")
        if _WIDTH_GIVEN.search(subject):
            _numbers_ok([*args, *kwargs.values()])
    if name == "join" and args and isinstance(args[0], str):  # `sep|join(seq)` (the filter) and `sep.join(seq)`
        longest = len(subject) * max(len(args[0]), 1)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        longest = len(subject) + (len(subject) + 1) * len(args[1])
    else:
        return
    if longest > MAX_VALUE_CHARS:
        raise RenderBudgetExceeded(f"makes a value of more than {MAX_VALUE_CHARS:,} characters")


def _budgeted_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    given = 1 if getattr(function, "jinja_pass_arg", None) else 0  # the context, eval context or environment

    @functools.wraps(function)  # keeps jinja_pass_arg: a filter given the context still gets it
    def filtered(*args: Any, **kwargs: Any) -> Any:
        _step()
        if len(args) > given:
            _growth_ok(name, args[given], args[given + 1 :], kwargs)
        return _sized(function(*args, **kwargs))

    return filtered


@pass_context  # never folded into a constant while compiling: each render iterates anew
def _counted(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _step()
        yield item


class _CountingCodeGenerator(CodeGenerator):
    """Every `for` iterates through _counted; every `~` concatenation is sized."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):  # before the generator collects the filters the template uses
            loop.iter = nodes.Filter(loop.iter, _COUNTED, [], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.sized(")
        super().visit_Concat(node, frame)
        self.write(")")


class BudgetedSandbox(SandboxedEnvironment):
    """The sandbox, with every render's steps and sizes counted (see the module's docstring)."""

    code_generator_class = _CountingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _budgeted_filter(name, f) for name, f in self.filters.items()}
        self.filters[_COUNTED] = _counted

    @staticmethod
    def sized(value: Any) -> Any:
        return _sized(value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            sequence, times = (left, right) if isinstance(right, int) else (right, left)
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(times, int)
                and len(sequence) * times > MAX_VALUE_CHARS
            ):
                raise RenderBudgetExceeded(f"makes a value of more than {MAX_VALUE_CHARS:,} characters")
        elif operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise RenderBudgetExceeded(f"raises to a power over {MAX_EXPONENT}")
        elif operator == "%" and isinstance(left, str):
            _growth_ok("format", left, right if isinstance(right, tuple) else (right,), {})
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _step()
        target = getattr(__obj, "__wrapped__", __obj)  # str.format comes wrapped by the sandbox
        if isinstance(bound := getattr(target, "__self__", None), str):  # a string's method
            _growth_ok(getattr(target, "__name__", ""), bound, args, kwargs)
        return _sized(super().call(__context, __obj, *args, **kwargs))


def render_within_budget(compiled: Compiled, values: Mapping[str, Any]) -> str:
    """Render with a fresh budget; RenderBudgetExceeded past any limit."""
    token = _BUDGET.set(_Budget(MAX_STEPS, time.monotonic() + RENDER_SECONDS))
    try:
        pieces: list[str] = []
        size = 0
        for piece in compiled.generate(values):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise RenderBudgetExceeded(f"renders more than {MAX_OUTPUT_CHARS:,} characters")
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _BUDGET.reset(token)
