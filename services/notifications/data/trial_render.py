"""A template edit's checks in a process of its own, so that what the template costs cannot cost the service.

The sandbox stops a template from reaching outside it, not from spending: `{{ 'x' * 10**9 }}`, a width of a
billion to `center`, a string doubled in a loop, nested loops of 100,000 each. Checked in the service, any of
them held its event loop or its memory, some while merely compiled (Jinja2 folds constants as it compiles).
Checked here, the child runs under limits of its own (CPU seconds and address space, set by the child before
it reads the template) and is killed past its wall-clock time; what stops it is a problem with the edit, and
the service refuses it. The samples differ (long, varied, empty), so that a template branching on a value
meets its costly branch here; and whatever values it meets when it is sent, a render there is bounded too
(render_budget.py: past its budget the built-in template is used).

    python -m services.notifications.data.trial_render   # a JSON request on stdin, problems on stdout
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from collections.abc import Mapping

Problem = tuple[str, int, str]
"""(part, line, message)."""

TRIAL_SECONDS = 3.0
"""Wall-clock time for the whole check, the interpreter's start included (~0.2 s here)."""
TRIAL_CPU_SECONDS = 2
TRIAL_MEMORY_BYTES = 768 * 2**20
TRIAL_OUTPUT_CHARS = 1_000_000
SAMPLE_VALUES = ("x" * 2_000, ("Ab 1,\n" * 400)[:2_000], "")
"""Long and alike, long and varied (letters of both cases, digits, punctuation, line breaks), empty."""
TOO_COSTLY = f"takes more than {TRIAL_CPU_SECONDS} s or {TRIAL_MEMORY_BYTES // 2**20} MiB to render with sample values"


async def inspected_in_a_child(parts: Mapping[str, str], variables: frozenset[str], kind: str) -> list[Problem]:
    """Every problem of the template's parts (static_problems, then the trial), found in a child process."""
    request = json.dumps({"parts": dict(parts), "variables": sorted(variables), "kind": kind}).encode()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", __name__,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        answer, _ = await asyncio.wait_for(child.communicate(request), TRIAL_SECONDS)
    except TimeoutError:
        child.kill()
        await child.wait()
        return [(part, 0, TOO_COSTLY) for part in parts]
    if child.returncode != 0:  # killed by its CPU limit, or no memory left even to say so
        return [(part, 0, TOO_COSTLY) for part in parts]
    return [(part, line, message) for part, line, message in json.loads(answer)]


def inspect(parts: Mapping[str, str], variables: frozenset[str], kind: str) -> list[Problem]:
    """What static_problems finds, then each part that passed it rendered with long sample values."""
    from services.notifications.data.rendering import static_problems

    try:
        problems, passed = static_problems(parts, variables, kind)
    except MemoryError:
        return [(part, 0, TOO_COSTLY) for part in parts]
    for part in passed:
        if found := _trial(part, parts[part], variables):
            problems.append(found)
    return problems


def _trial(part: str, source: str, variables: frozenset[str]) -> Problem | None:
    """The first problem of rendering one part with each set of sample values, if any."""
    from services.notifications.data.render_budget import RenderBudgetExceeded
    from services.notifications.data.rendering import failing_line, render_part

    for sample in SAMPLE_VALUES:
        try:
            size = len(render_part(part, source, dict.fromkeys(variables, sample)))
        except MemoryError:
            return (part, 0, TOO_COSTLY)
        except RenderBudgetExceeded as error:  # what would make it fall back to the built-in one when sent
            return (part, failing_line(sys.exc_info()[2]), f"costs too much to render with sample values: {error}")
        except Exception as error:  # the sandbox, its budget, a filter, arithmetic: any failure refuses the edit
            return (part, failing_line(sys.exc_info()[2]), str(error)[:200] or type(error).__name__)
        if size > TRIAL_OUTPUT_CHARS:
            return (part, 0, f"renders {size:,} characters with sample values (at most {TRIAL_OUTPUT_CHARS:,})")
    return None


async def inspected_in_process(parts: Mapping[str, str], variables: frozenset[str], kind: str) -> list[Problem]:
    """The same inspection without a process or limits of its own: for tests of the rules around it."""
    return inspect(parts, variables, kind)


def _limit_myself() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (TRIAL_CPU_SECONDS, TRIAL_CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (TRIAL_MEMORY_BYTES, TRIAL_MEMORY_BYTES))


def main() -> None:
    import services.notifications.data.rendering  # noqa: F401  # before the limits: imports need memory

    request = json.load(sys.stdin)
    _limit_myself()
    json.dump(inspect(request["parts"], frozenset(request["variables"]), request["kind"]), sys.stdout)


if __name__ == "__main__":
    main()
