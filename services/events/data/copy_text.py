"""Accepted batches as lines of COPY's text format, made straight from the wire message column by column.

Text rather than asyncpg's binary records: a record per event and asyncpg's encoding of each value cost
the process that stores about half its CPU; joining each column's strings (most loops in C) costs a
fraction of that, and Postgres, on the other core, parses the text (bench/README.md has both measured).
The lines hold ACCEPTED_COLUMNS: everything but resources, which a client cannot send (the column's
default, an empty list).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from services.events.data.tables import COLUMNS
from services.events.data.values import each_attributes_json
from services.events.domain.model import CATEGORY_OF, EPOCH, AcceptedBatch, Read, mint_id
from services.events.domain.rules import EVENT_NAME

ACCEPTED_COLUMNS = tuple(name for name in COLUMNS if name != "resources")

_CATEGORY_TEXT = {number: str(int(category)) for number, category in CATEGORY_OF.items()}
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
_SPECIAL = re.compile(r"[\\\t\n\r]")
"""What COPY's text format gives a meaning to inside a value (the rules refuse other control characters)."""
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def accepted_text(batch: AcceptedBatch) -> tuple[bytes, int]:
    """The batch's COPY data, one line per event, each value as `records()` completes it; and its number of
    lines. ValueError, KeyError: a name, a category or a time the rules would have refused (nothing of the
    batch is stored)."""
    events = list(batch.events)
    if not events:
        return b"", 0
    stamps = list(map(Read.occur_time, events))
    seconds, nanos = list(map(Read.seconds, stamps)), list(map(Read.nanos, stamps))
    if min(seconds) < 0 or max(seconds) > _LAST_SECOND or min(nanos) < 0 or max(nanos) >= 1_000_000_000:
        raise ValueError("an event's occur_time is out of range")
    micros = [nano // 1000 for nano in nanos]
    names = list(map(Read.name, events))
    if not all(map(EVENT_NAME.fullmatch, filter(None, names))):
        raise ValueError("an event's name is not events/{uuid}")
    key = batch.key
    ids = [
        name[7:] if name else str(mint_id(key, n, EPOCH + timedelta(seconds=seconds[n], microseconds=micros[n])))
        for n, name in enumerate(names)
    ]
    accepted_by, trace_id = batch.accepted_by, batch.trace_id
    texts_from = 4  # the columns a client writes (type, actor, ... attributes): the only ones to escape
    columns: list[list[str]] = [
        _times(seconds, micros),
        ids,
        list(map(_CATEGORY_TEXT.__getitem__, map(Read.category, events))),
        [batch.accept_time.isoformat()] * len(events),
        list(map(Read.type, events)),
        [actor or accepted_by for actor in map(Read.actor, events)],
        list(map(Read.subject, events)),
        list(map(Read.source, events)),
        [trace or trace_id for trace in map(Read.trace_id, events)],
        each_attributes_json(list(map(Read.attributes, events))),
    ]
    text = "\n".join(map("\t".join, zip(*columns, strict=True)))
    if not _plain(text, len(events), len(columns)):
        columns[texts_from:] = map(_escaped, columns[texts_from:])
        text = "\n".join(map("\t".join, zip(*columns, strict=True)))
    return f"{text}\n".encode(), len(events)


def _times(seconds: list[int], micros: list[int]) -> list[str]:
    """Each time in ISO 8601, as `datetime.isoformat` writes it with microseconds: one datetime per distinct
    second (a batch spans a few), not one per event (~6 ms per 1,000 events of distinct times)."""
    whole = {second: (EPOCH + timedelta(seconds=second)).isoformat()[:-6] for second in set(seconds)}
    return [f"{whole[second]}.{micro:06d}+00:00" for second, micro in zip(seconds, micros, strict=True)]


def _plain(text: str, lines: int, columns: int) -> bool:
    """Whether no value of these lines holds a character COPY's text format gives a meaning to: then the
    tabs and line breaks are exactly the separators (a few searches of the whole text, all in C)."""
    return (
        text.count("\t") == lines * (columns - 1)
        and text.count("\n") == lines - 1
        and "\\" not in text
        and "\r" not in text
    )


def _escaped(column: list[str]) -> list[str]:
    """A column's values as COPY text: looked for escapes all at once, escaped one by one only if any."""
    if _SPECIAL.search("".join(column)) is None:
        return column
    return [value.translate(_ESCAPED) for value in column]


class AcceptedText:
    """The COPY data of accepted batches, one chunk a batch, made as COPY reads them: Postgres parses one
    batch while the next is made (made all before, the store and Postgres took turns). Kept once made, for a
    second reading (the staging path)."""

    def __init__(self, batches: Sequence[AcceptedBatch]) -> None:
        self._batches = batches
        self._texts: list[bytes | None] = []
        self.rows = 0
        """Rows made so far."""

    @property
    def unreadable(self) -> list[int]:
        """The batches (by index) with an event the rules would have refused: none of their rows is sent."""
        return [index for index, text in enumerate(self._texts) if text is None]

    async def each(self) -> AsyncIterator[bytes]:
        """Every readable batch's text, in order (asyncpg reads COPY data chunk by chunk)."""
        for index, batch in enumerate(self._batches):
            if index == len(self._texts):
                self._texts.append(self._made(batch))
            if (text := self._texts[index]) is not None:
                yield text

    def _made(self, batch: AcceptedBatch) -> bytes | None:
        try:
            text, rows = accepted_text(batch)
        except (ValueError, KeyError):
            return None
        self.rows += rows
        return text
