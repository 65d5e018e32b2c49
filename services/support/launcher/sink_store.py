"""What a local sink received: every message in memory, in arrival order, and a JSON-lines file on disk so a
restarted sink still shows what it held. The file is appended in batches (by `flush`, which the sink calls a
few times a second and when it stops), never once per message: a burst of thousands of messages a second
costs one write per batch, not one per message."""

from __future__ import annotations

import json
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
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line:
                    self._remember(json.loads(line))
        self._file = path.open("a", encoding="utf-8")

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
