"""The outbox rows written into a statement (`outbox.rows_written_in`): no value can end a literal."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from services.support.runtime.outbox import OutboxMessage, rows_written_in

HOSTILE = "x'); DROP TABLE outbox; --\\' $$"


def _row(**changes: object) -> dict[str, object]:
    message = OutboxMessage(
        event_id=uuid.uuid4(),
        subject=HOSTILE,
        event_type=HOSTILE,
        payload=HOSTILE.encode(),
        occurred_at=datetime.now(UTC),
    )
    return message.row() | {"headers": {HOSTILE: HOSTILE}} | changes


def test_every_value_is_written_as_hex_a_uuid_or_a_timestamp() -> None:
    statement = rows_written_in([_row(), _row()])
    literals = re.findall(r"'([^']*)'", statement)
    assert all(re.fullmatch(r"[0-9a-f]*|hex|UTF8|[0-9a-f-]{36}|[0-9T:.+-]+", literal) for literal in literals)
    assert "DROP" not in statement and "$$" not in statement
    plain = rows_written_in([_row(subject="s", event_type="t", payload=b"", headers={})] * 2)
    assert re.sub(r"'[^']*'", "''", statement) == re.sub(r"'[^']*'", "''", plain)  # the same statement's shape


@pytest.mark.parametrize(
    "changes",
    [{"event_id": "0') --"}, {"occurred_at": "2026-12-05'"}, {"occurred_at": datetime(2026, 12, 5)}],  # naive: refused
)
def test_an_id_or_a_time_of_another_kind_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        rows_written_in([_row(**changes)])
