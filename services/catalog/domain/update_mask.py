"""AIP-134 field masks: which fields of a resource an update changes."""

from __future__ import annotations

from collections.abc import Iterable

from services.support.runtime.errors import InvalidArgument


def update_paths(
    mask: Iterable[str], *, sent: object, writable: tuple[str, ...], output_only: tuple[str, ...]
) -> tuple[str, ...]:
    """The mask -> the fields to change: "*" is every writable field; no mask means every field sent."""
    paths = list(mask)
    if not paths:
        return tuple(f for f in writable if getattr(sent, f) not in ("", 0, (), None))
    if paths == ["*"]:
        return writable
    for path in paths:
        if path in output_only:
            raise InvalidArgument.field("update_mask", f"{path} is output only")
        if path not in writable:
            raise InvalidArgument.field("update_mask", f"unknown field {path!r}; writable: {', '.join(writable)}")
    return tuple(dict.fromkeys(paths))
