"""README's shell examples run as written, top to bottom: every variable they use is one an earlier example sets
(the closed-day and item-type calls used an `$ADMIN` nothing defined, so they went out with no token: 401)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL_BLOCK = re.compile(r"```(?:sh|bash|shell)\n(.*?)```", re.DOTALL)
ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=", re.MULTILINE)
USED = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)")
FROM_THE_SHELL = {"HOME", "PWD", "USER", "PATH"}


def test_every_variable_a_readme_example_uses_is_set_by_an_earlier_one() -> None:
    assigned: set[str] = set(FROM_THE_SHELL)
    unset: list[str] = []
    for block in SHELL_BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            unset.extend(f"${name}: {line.strip()}" for name in USED.findall(line) if name not in assigned)
            assigned.update(ASSIGNED.findall(line))
    assert not unset, "\n".join(unset)


def test_the_item_type_an_example_changes_is_one_a_new_library_has_or_an_earlier_example_made() -> None:
    """The PATCH of itemTypes/REFERENCE answered 404 on a new library, which has BOOK only (migration 0010)."""
    made = {"BOOK"}
    for block in SHELL_BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            made.update(re.findall(r'"code": "(\w+)"', line))
            for code in re.findall(r"-X (?:PATCH|DELETE) '?localhost:\d+/v1/itemTypes/(\w+)", line):
                assert code in made, f"itemTypes/{code} is changed before any example creates it: {line.strip()}"
