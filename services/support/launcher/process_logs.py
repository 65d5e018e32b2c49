"""The logs of the mesh's child processes: each opened for the mesh's account alone, and the end of one read
as a person reads it, for the error message of a child that exited."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import BinaryIO

LOG_TAIL_BYTES = 256 * 1024
"""How much of the end of a log an error message reads: a log grows for as long as the mesh runs."""


def log_tail(path: Path, lines: int = 12) -> str:
    """The last lines of a log file, for error messages: a service's JSON lines as their level and message, with
    the error that ends a traceback they carry, so the reason is there to read."""
    try:
        with path.open("rb") as log:
            log.seek(max(log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES, 0))
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    readable = [shown for line in text.splitlines()[-lines:] for shown in _readable(line)]
    return "\n".join(readable[-lines:])


def _readable(line: str) -> list[str]:
    """A log line as a person reads it: a JSON entry ({"level", "message", "exception"}) as `level: message`
    and the last line of its traceback (the error); any other line as it is."""
    try:
        entry = json.loads(line) if line.startswith("{") else None
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "message" not in entry:
        return [line]
    shown = [f"{entry.get('level', 'info')}: {entry['message']}"]
    traceback = str(entry.get("exception") or "").strip().splitlines()
    return [*shown, f"  {traceback[-1]}"] if traceback else shown


def private_log(path: Path) -> BinaryIO:
    """`path` opened for appending, it and its folder for the mesh's account only: logs name users and
    addresses, and an Envoy switched to debug logs request headers (bearer tokens among them)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)  # a folder made before 2026-12-03 was readable by every account
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "ab")
