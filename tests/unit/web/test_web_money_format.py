# ruff: noqa: RUF001  (Cyrillic on purpose: a currency written as a Russian word)
"""The web's money formatting, run by Node on the function as the page has it (skipped where Node is missing):
a currency code that is no ISO 4217 one made Intl throw, and the reader's account page showed no fines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from services.support.mesh.envoy_web import WEB_SOURCE

NODE = shutil.which("node")


def _format_money(amount: str, currency: str) -> str:
    source = (WEB_SOURCE / "js" / "i18n.js").read_text(encoding="utf-8")
    function = re.search(r"^export function formatMoney\(.*?^\}$", source, re.MULTILINE | re.DOTALL)
    assert function is not None
    script = (
        'let current = "en"; let libraryCurrency = "";\n'
        + function.group(0).removeprefix("export ")
        + f"\nprocess.stdout.write(formatMoney({json.dumps(amount)}, {json.dumps(currency)}));"
    )
    assert NODE is not None
    return subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.mark.skipif(NODE is None, reason="no Node to run the web's code")
def test_money_in_a_code_intl_does_not_know_is_shown_as_the_number_and_the_code() -> None:
    assert _format_money("12.5", "RUB") == "RUB\u00a012.50"  # as Intl writes it
    assert _format_money("12.5", "руб.") == "12.50 руб."
    assert _format_money("12.5", "") == "12.50"
