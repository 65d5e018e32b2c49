"""The integers of a request checked against their fields' proto types before it is serialized.

betterproto2 writes any Python int as a varint, and the server keeps the bits its type holds: 2**32 + 1999 in
an int32 arrives as 1999, a page size of 2**40 as 0. The server cannot tell, so the client must refuse it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import betterproto2

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_UINT32 = (0, 2**32 - 1)
_UINT64 = (0, 2**64 - 1)
RANGES: dict[str, tuple[int, int]] = {
    betterproto2.TYPE_INT32: _INT32,
    betterproto2.TYPE_SINT32: _INT32,
    betterproto2.TYPE_SFIXED32: _INT32,
    betterproto2.TYPE_ENUM: _INT32,
    betterproto2.TYPE_INT64: _INT64,
    betterproto2.TYPE_SINT64: _INT64,
    betterproto2.TYPE_SFIXED64: _INT64,
    betterproto2.TYPE_UINT32: _UINT32,
    betterproto2.TYPE_FIXED32: _UINT32,
    betterproto2.TYPE_UINT64: _UINT64,
    betterproto2.TYPE_FIXED64: _UINT64,
}


def out_of_range(message: betterproto2.Message) -> str | None:
    """Why `message` cannot be sent as it is ("book.publication_year: 4294969295 is not an int32 (…)"), or
    None when every integer in it fits its field."""
    for path, proto_type, value in _integers(message, ""):
        low, high = RANGES[proto_type]
        if isinstance(value, int) and not low <= value <= high:
            return f"{path}: {value} is not an {proto_type} ({low} to {high})"
    return None


def _integers(message: betterproto2.Message, prefix: str) -> Iterator[tuple[str, str, Any]]:
    """(path, proto type, value) of every integer in `message`, nested messages, lists and maps included."""
    for name, meta in message._betterproto.meta_by_field_name.items():
        value = getattr(message, name, None)
        if value is None or meta.unwrap is not None:  # unset, or a well-known type (a datetime…) of its own
            continue
        path = f"{prefix}{name}"
        if meta.proto_type == betterproto2.TYPE_MAP and meta.map_meta is not None:
            key_meta, value_meta = meta.map_meta
            for key, item in value.items():
                yield from _one(f"{path}[{key!r}]", key_meta.proto_type, key)
                yield from _one(f"{path}[{key!r}]", value_meta.proto_type, item)
        elif meta.repeated:
            for index, item in enumerate(value):
                yield from _one(f"{path}[{index}]", meta.proto_type, item)
        else:
            yield from _one(path, meta.proto_type, value)


def _one(path: str, proto_type: str, value: Any) -> Iterator[tuple[str, str, Any]]:
    if proto_type in RANGES:
        yield path, proto_type, value
    elif isinstance(value, betterproto2.Message):
        yield from _integers(value, f"{path}.")
