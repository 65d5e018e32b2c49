"""What a change's event says the changed fields were: an update's `previous_values`, by update_mask path.

The audit trail keeps an event's attributes as text; an auditor reviewing "role changed to LIBRARIAN" needs
what it was (a promotion from READER and a demotion from ADMIN read the same otherwise). Values are rendered
as the trail renders attributes: an enum by its name, a flag as true/false, a list or a message as JSON. A
field its proto marks `debug_redact` (personal data: an account's email, name, phone) is left out, as the
trail leaves it out of the resource itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message


def previous_values(before: Message, paths: Iterable[str]) -> dict[str, str]:
    """The values of `paths` (update_mask paths; "a.b" for a nested field or a map's key) in `before`."""
    found: dict[str, str] = {}
    for path in paths:
        text = _text_at(before, path.split("."))
        if text is not None:
            found[path] = text
    return found


def _text_at(message: Message, parts: list[str]) -> str | None:
    field: FieldDescriptor | None = cast(Descriptor, message.DESCRIPTOR).fields_by_name.get(parts[0])
    if field is None or field.GetOptions().debug_redact:
        return None
    value = getattr(message, parts[0])
    if _is_map(field):
        entry: FieldDescriptor = cast(Descriptor, field.message_type).fields_by_name["value"]
        if len(parts) == 1:
            return _json({key: _plain(entry, item) for key, item in value.items()})
        if len(parts) == 2:
            return _text(entry, value[parts[1]]) if parts[1] in value else ""
        return None
    if len(parts) > 1:
        return None if field.message_type is None or field.is_repeated else _text_at(value, parts[1:])
    if field.is_repeated:
        return _json([_plain(field, item) for item in value])
    return _text(field, value)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _text(field: FieldDescriptor, value: Any) -> str:
    plain = _plain(field, value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return plain if isinstance(plain, str) else _json(plain)


def _plain(field: FieldDescriptor, value: Any) -> Any:
    if field.enum_type is not None:
        known = field.enum_type.values_by_number.get(int(value))
        return known.name if known is not None else str(int(value))
    if field.message_type is not None:
        plain = json_format.MessageToDict(value, preserving_proto_field_name=True)
        redacted = {f.name for f in field.message_type.fields if f.GetOptions().debug_redact}
        return {key: item for key, item in plain.items() if key not in redacted} if isinstance(plain, dict) else plain
    if isinstance(value, bool):
        return value
    return value if isinstance(value, str) else str(value)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
