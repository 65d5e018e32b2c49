"""An amount typed in one language's notation keeps its meaning once the page has switched to the other (run by
Node on the functions as the page has them; skipped where Node is missing): "1,500" typed on an English page is
refused there, and must not become 1.50 because the page is Russian now."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from services.support.mesh.envoy_web import WEB_SOURCE

NODE = shutil.which("node")


def _typed_amount(text: str, page: str, typed_in: str | None) -> str:
    source = (WEB_SOURCE / "js" / "i18n.js").read_text(encoding="utf-8")
    functions = [
        re.search(rf"^(export )?function {name}\(.*?^\}}$", source, re.MULTILINE | re.DOTALL)
        for name in ("typedAmount", "decimalSeparator")
    ]
    assert all(functions)
    arguments = json.dumps(text) + ("" if typed_in is None else f", {json.dumps(typed_in)}")
    script = (
        f"let current = {json.dumps(page)};\n"
        + "\n".join(match.group(0).removeprefix("export ") for match in functions if match)
        + f"\nprocess.stdout.write(typedAmount({arguments}));"
    )
    assert NODE is not None
    return subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.mark.skipif(NODE is None, reason="no Node to run the web's code")
def test_an_amount_is_read_in_the_notation_it_was_typed_in() -> None:
    assert _typed_amount("1,50", "ru", None) == "1.50"  # the page's own notation
    assert _typed_amount("1,500", "ru", "en") == "1,500"  # typed in English: a grouping comma, refused, not 1.50
    assert _typed_amount("12,50", "en", "ru") == "12.50"  # typed in Russian, read so on the English page
    assert _typed_amount("12.50", "ru", "en") == "12.50"
