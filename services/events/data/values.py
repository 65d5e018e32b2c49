"""How values of the log are written for Postgres."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence


def _compact_json_encoder() -> Callable[[object], str]:
    """Compact JSON. The C encoder made once: `JSONEncoder.encode` makes one per call, which cost the store
    three quarters of its JSON time (3.8 -> 1.1 us an event, bench/README.md)."""
    separators = (":", ",")
    make = getattr(json.encoder, "c_make_encoder", None)  # not in the stubs
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=separators[::-1]).encode
    chunks = make(None, None, json.encoder.encode_basestring, None, *separators, False, False, True)
    return lambda attributes: "".join(chunks(attributes, 0))


_json = _compact_json_encoder()


def attributes_json(attributes: Mapping[str, str]) -> str:
    """An event's attributes (a dict, or the wire's map) as a JSON object."""
    return _json({key: attributes[key] for key in attributes}) if attributes else "{}"  # faster than dict()


def each_attributes_json(maps: Sequence[Mapping[str, str]]) -> list[str]:
    """`attributes_json` of each map, the whole column in one call of the encoder, then cut where one object
    ends and the next begins ("},{" outside any value): a third less than one call per map. A value that
    holds "},{" itself makes more pieces than maps: that column is made one map at a time."""
    objects = [{key: entries[key] for key in entries} for entries in maps]
    if not objects:
        return []
    pieces = _json(objects)[2:-2].split("},{")
    if len(pieces) != len(objects):
        return [_json(entries) for entries in objects]
    return [f"{{{piece}}}" for piece in pieces]
