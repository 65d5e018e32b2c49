"""What a local sink received: every message in memory, in arrival order, and a JSON-lines file on disk so a
restarted sink still shows what it held. The file is appended in batches (by `flush`, which the sink calls a
few times a second and when it stops), never once per message: a burst of thousands of messages a second
costs one write per batch, not one per message. The folder and the file are the owner's only, like the logs:
messages name patrons, their addresses, phone numbers, loans and fines."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Store:
    """The sink's messages. Not thread-safe: one event loop owns it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[dict[str, Any]] = []
        self.duplicates = 0
        self._by_key: dict[str, dict[str, Any]] = {}
        self._unwritten = 0
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)  # a folder made before 2026-12-06 was readable by every account
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(descriptor, 0o600)
        self._file = os.fdopen(descriptor, "a+", encoding="utf-8")
        self._file.seek(0)
        for line in self._file.read().splitlines():
            if line:
                self._remember(json.loads(line))

    def _remember(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        if "duplicate_of" in item:
            self.duplicates += 1
        elif item.get("key"):
            self._by_key[item["key"]] = item

    def first_with(self, key: str) -> dict[str, Any] | None:
        """The message first stored under this Message-ID / idempotency key, if any."""
        return self._by_key.get(key) if key else None

    def add(self, item: dict[str, Any]) -> int:
        """Keep a message (a copy of one already held is kept too, marked `duplicate_of` the first)."""
        item["n"] = len(self.items) + 1
        first = self._by_key.get(item.get("key") or "")
        if first is not None:
            item["duplicate_of"] = first["n"]
        self._remember(item)
        self._unwritten += 1
        return int(item["n"])

    def flush(self) -> int:
        """Append what arrived since the last flush to the file, in one write; returns how many."""
        count = self._unwritten
        if count:
            fresh = self.items[len(self.items) - count :]
            self._file.write("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in fresh))
            self._file.flush()
            self._unwritten = 0
        return count

    def close(self) -> None:
        self.flush()
        self._file.close()

    def stats(self) -> dict[str, int]:
        return {"count": len(self.items) - self.duplicates, "duplicates": self.duplicates}
