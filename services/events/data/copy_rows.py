"""Accepted batches as rows of COPY's binary format, made straight from the wire message column by column.

Binary rather than text: Postgres then copies each value as it is, where text made it parse every line,
time and UUID (about a quarter of its CPU per event, bench/README.md); making the rows costs the store
about what making the text did. Rather than asyncpg's records: a record per event and asyncpg's encoding of
each value cost the store about half its CPU, where here most loops run in C, a column at a time.
The rows hold ACCEPTED_COLUMNS: everything but resources, which a client cannot send (the column's
default, an empty list).
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat

from services.events.data.tables import COLUMNS
from services.events.data.values import each_attributes_json
from services.events.domain.model import CATEGORY_OF, EPOCH, AcceptedBatch, NewEvent, Read, mint_id
from services.events.domain.rules import all_event_names
from services.support.runtime.boundary import LAST_SECOND

ACCEPTED_COLUMNS = tuple(name for name in COLUMNS if name != "resources")

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
"""The format's signature, then no flags and no header extension."""
TRAILER = b"\xff\xff"

_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_POSTGRES_EPOCH_SECONDS = int((_POSTGRES_EPOCH - EPOCH).total_seconds())
_LEADING = struct.Struct(">hiqi16sih")
"""A row's field count, then occur_time (microseconds since 2000), id and category, each after its length."""
_LENGTH = struct.Struct(">i").pack
_JSONB_VERSION = b"\x01"


def accepted_rows(batch: AcceptedBatch) -> tuple[bytes, int]:
    """The batch's COPY rows, one per event, each value as `records()` completes it; and their number.
    ValueError, KeyError: a name, a category or a time the rules would have refused (nothing of the batch
    is stored)."""
    events = list(batch.events)
    if not events:
        return b"", 0
    stamps = list(map(Read.occur_time, events))
    seconds, nanos = list(map(Read.seconds, stamps)), list(map(Read.nanos, stamps))
    if min(seconds) < 0 or max(seconds) > LAST_SECOND or min(nanos) < 0 or max(nanos) >= 1_000_000_000:
        raise ValueError("an event's occur_time is out of range")
    micros = [
        (second - _POSTGRES_EPOCH_SECONDS) * 1_000_000 + nano // 1000
        for second, nano in zip(seconds, nanos, strict=True)
    ]
    leading = map(
        _LEADING.pack,
        repeat(len(ACCEPTED_COLUMNS)),
        repeat(8),
        micros,
        repeat(16),
        _ids(batch, events, seconds, nanos),
        repeat(2),
        map(CATEGORY_OF.__getitem__, map(Read.category, events)),
    )
    accepted_by, trace_id = batch.accepted_by, batch.trace_id
    attributes = each_attributes_json(list(map(Read.attributes, events)))
    columns: tuple[Iterable[bytes], ...] = (
        leading,
        repeat(_LENGTH(8) + struct.pack(">q", (batch.accept_time - _POSTGRES_EPOCH) // timedelta(microseconds=1))),
        _texts(map(Read.type, events)),
        _texts(actor or accepted_by for actor in map(Read.actor, events)),
        _texts(map(Read.subject, events)),
        _texts(map(Read.source, events)),
        _texts(trace or trace_id for trace in map(Read.trace_id, events)),
        map(_LENGTH, map((1).__add__, map(len, attributes))),
        repeat(_JSONB_VERSION),
        attributes,
    )
    return b"".join(chain.from_iterable(zip(*columns, strict=False))), len(events)  # the repeat()s are endless


def _ids(batch: AcceptedBatch, events: list[NewEvent], seconds: list[int], nanos: list[int]) -> list[bytes]:
    """Each event's id as 16 bytes: its name's UUID, or one minted from the batch (the same on a retry)."""
    names = list(map(Read.name, events))
    named = list(filter(None, names))
    if not all_event_names(named):
        raise ValueError("an event's name is not events/{uuid}")
    if len(named) == len(names):  # clients that name their events name them all: one hex decoding a batch
        packed = bytes.fromhex("".join(names).replace("events/", "").replace("-", ""))
        return [packed[start : start + 16] for start in range(0, len(packed), 16)]
    key = batch.key
    return [
        bytes.fromhex(name[7:].replace("-", ""))
        if name
        else mint_id(key, n, EPOCH + timedelta(seconds=seconds[n], microseconds=nanos[n] // 1000)).bytes
        for n, name in enumerate(names)
    ]


def _texts(values: Iterable[str]) -> list[bytes]:
    """A text column's fields: each distinct value encoded once (types, actors, sources repeat)."""
    values = list(values)
    fields = {value: _LENGTH(len(data)) + data for value in set(values) for data in (value.encode(),)}
    return list(map(fields.__getitem__, values))


class AcceptedRows:
    """The COPY data of accepted batches, one chunk a batch, made as COPY reads them: Postgres reads one
    batch while the next is made (made all before, the store and Postgres took turns). Kept once made, for a
    second reading (the staging path)."""

    def __init__(self, batches: Sequence[AcceptedBatch]) -> None:
        self._batches = batches
        self._rows: list[bytes | None] = []
        self.count = 0
        """Rows made so far."""

    @property
    def unreadable(self) -> list[int]:
        """The batches (by index) with an event the rules would have refused: none of their rows is sent."""
        return [index for index, rows in enumerate(self._rows) if rows is None]

    async def each(self) -> AsyncIterator[bytes]:
        """The header, every readable batch's rows in order, the trailer (asyncpg sends them as they come)."""
        yield HEADER
        for index, batch in enumerate(self._batches):
            if index == len(self._rows):
                self._rows.append(self._made(batch))
            if rows := self._rows[index]:
                yield rows
        yield TRAILER

    def _made(self, batch: AcceptedBatch) -> bytes | None:
        try:
            rows, count = accepted_rows(batch)
        except (ValueError, KeyError):
            return None
        self.count += count
        return rows
