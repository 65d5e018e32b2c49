"""How values of the log are written for Postgres."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping


def _compact_json_encoder() -> Callable[[dict[str, str]], str]:
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
