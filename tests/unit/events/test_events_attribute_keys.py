"""Attribute keys: the refusal says the rule the log applies (a letter or _ first), and the contract says it too."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import Draft

from services.events.domain.rules import KEY, check_batch
from services.support.runtime.errors import InvalidArgument

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
PROTO = Path(__file__).resolve().parents[3] / "proto/athenaeum/events/v1/events.proto"


@pytest.mark.parametrize("key", ["1st", "0", "-x", "2fa"])
def test_a_key_not_beginning_with_a_letter_or_underscore_is_refused_saying_so(key: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_batch([Draft(attributes={"ok": "v"}), Draft(attributes={key: "v"})], now=NOW)  # type: ignore[list-item]
    ((field, description),) = [(v.field, v.description) for v in refused.value.violations]
    assert field == "events[1].attributes"
    assert "begin with a letter or _" in description and key not in description.split()


@pytest.mark.parametrize("key", ["first", "_x", "loan.patron", "items[0]", "a-b", "x" * 128])
def test_keys_the_rule_names_are_accepted(key: str) -> None:
    check_batch([Draft(attributes={key: "v"})], now=NOW)  # type: ignore[list-item]


def test_the_contract_states_the_pattern_the_log_applies() -> None:
    """events.proto (and from it the OpenAPI reference and the Python client) gives the key pattern."""
    comment = " ".join(line.strip().removeprefix("//").strip() for line in PROTO.read_text().splitlines())
    stated = re.search(r"pattern `\^(.+?)\$`", comment)
    assert stated is not None and stated.group(1) == KEY.pattern
    assert "begins with a letter or `_`" in comment
