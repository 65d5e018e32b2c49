"""What a local sink received: every message in memory, in arrival order, and a JSON-lines file on disk so a
restarted sink still shows what it held. A sender is answered only once its message is on disk (`keep`), but
the file is appended in batches, never once per message: whatever arrived while the event loop was busy is
written with one write, so a burst of thousands of messages a second costs one write per batch. A batch the
disk takes not (whole) is cut off again and its senders are told (the sinks answer "try again later"): the file
never ends in half a line, and a start after a crash mid-write drops such a line rather than refusing to start.
The folder and the file are the owner's only, like the logs: messages name patrons, their addresses, phone
numbers, loans and fines."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("athenaeum.sinks")


class Store:
    """The sink's messages. Not thread-safe: one event loop owns it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[dict[str, Any]] = []
        self.duplicates = 0
        self._by_key: dict[str, dict[str, Any]] = {}
        self._unwritten = 0
        self._waiting: list[asyncio.Future[None]] = []
        self._flush_planned = False
        self._failing = False  # the last write failed: told once, until one succeeds
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)  # a folder made before 2026-12-06 was readable by every account
        self._descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        os.fchmod(self._descriptor, 0o600)
        self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        whole, _, torn = data.rpartition(b"\n")
        if torn:  # the last write was cut short (the disk filled, the sink was killed): never acknowledged
            log.warning("%s ended in a line cut short (%d bytes): dropped", self.path, len(torn))
            os.ftruncate(self._descriptor, len(data) - len(torn))
        for line in whole.decode("utf-8", errors="replace").splitlines():
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
        """Keep a message in memory until the next flush (a copy of one already held is kept too, marked
        `duplicate_of` the first)."""
        item["n"] = len(self.items) + 1
        first = self._by_key.get(item.get("key") or "")
        if first is not None:
            item["duplicate_of"] = first["n"]
        self._remember(item)
        self._unwritten += 1
        return int(item["n"])

    async def keep(self, item: dict[str, Any]) -> int:
        """`add` the message and return once it is on disk, written with whatever else arrived meanwhile;
        OSError when the disk did not take it (nothing of it is kept)."""
        number = self.add(item)
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        self._waiting.append(stored)
        if not self._flush_planned:  # after the callbacks ready now: their messages join this one's write
            self._flush_planned = True
            loop.call_soon(self._planned_flush)
        await stored
        return number

    def _planned_flush(self) -> None:
        self._flush_planned = False
        with contextlib.suppress(OSError):  # each waiting sender has been told
            self.flush()

    def flush(self) -> int:
        """Append what arrived since the last flush to the file, in one write, and release the senders waiting
        for it; returns how many. OSError when the disk did not take it all: the file is cut back to what it
        was, those messages are forgotten and their senders get the error."""
        count, waiting = self._unwritten, self._waiting
        self._unwritten, self._waiting = 0, []
        try:
            if count:
                fresh = self.items[len(self.items) - count :]
                self._append("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in fresh).encode())
        except OSError as error:
            self._forget(count)
            self._settle(waiting, error)
            if not self._failing:
                self._failing = True
                log.warning("cannot store messages in %s (%s): senders are told to try again later", self.path, error)
            raise
        if count and self._failing:
            self._failing = False
            log.warning("storing messages in %s again", self.path)
        self._settle(waiting, None)
        return count

    def _append(self, data: bytes) -> None:
        size = os.fstat(self._descriptor).st_size
        try:
            written = os.write(self._descriptor, data)
            if written != len(data):  # the disk filled during the write
                raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({written} of {len(data)} bytes written)")
        except OSError:
            os.ftruncate(self._descriptor, size)
            raise

    def _forget(self, count: int) -> None:
        """Drop the last `count` messages, which were never stored (their senders are told so)."""
        for item in self.items[len(self.items) - count :]:
            if "duplicate_of" in item:
                self.duplicates -= 1
            elif item.get("key") and self._by_key.get(item["key"]) is item:
                del self._by_key[item["key"]]
        del self.items[len(self.items) - count :]

    @staticmethod
    def _settle(waiting: list[asyncio.Future[None]], error: OSError | None) -> None:
        for stored in waiting:
            if stored.done():  # its sender went away meanwhile
                continue
            if error is None:
                stored.set_result(None)
            else:
                stored.set_exception(error)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # logged; what could not be stored was not acknowledged
            self.flush()
        os.close(self._descriptor)

    def stats(self) -> dict[str, int]:
        return {"count": len(self.items) - self.duplicates, "duplicates": self.duplicates}
