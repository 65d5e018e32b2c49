"""README's closed-day and item-type curl examples, run as written against the live edge with the tokens README
sets (`$STAFF`, the bootstrap admin's; `$TOKEN`, a reader's): they used an undefined `$ADMIN` (401) and changed a
REFERENCE type a new library does not have (404)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def calendar_and_item_type_examples() -> str:
    """The README lines from the first closed-day call to the end of its block (the item types follow it)."""
    for block in SHELL_BLOCK.findall(README.read_text(encoding="utf-8")):
        start = block.find("curl -s -X POST localhost:8080/v1/closedDays")
        if start >= 0:
            return block[start:]
    raise AssertionError("README has no closed-day example")


def test_the_closed_day_and_item_type_examples_run_as_written(mesh, edge, admin, reader) -> None:
    script = calendar_and_item_type_examples()
    assert "/v1/itemTypes" in script
    here = urlsplit(mesh.edge_url).netloc
    # --fail-with-body: a 4xx/5xx answer fails the script (and shows why); -w: one status per call.
    checked = "curl -sS --fail-with-body -w '\\n%{http_code}\\n' "
    script = script.replace("localhost:8080", here).replace("curl -s ", checked)
    env = {**os.environ, "STAFF": admin.access_token, "TOKEN": reader.access_token}
    try:
        result = subprocess.run(
            ["bash", "-e", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        statuses = [line for line in result.stdout.splitlines() if re.fullmatch(r"\d{3}", line)]
        assert statuses and set(statuses) == {"200"}, result.stdout
        dvd = edge.get("/v1/itemTypes/DVD").json()
        assert dvd["not_for_loan"] is True and edge.get("/v1/itemTypes/REFERENCE").json()["not_for_loan"] is True
    finally:  # the session's mesh goes on: leave no types behind that another test could meet
        for code in ("DVD", "REFERENCE"):
            edge.delete(f"/v1/itemTypes/{code}", headers=admin.headers)
