"""AIP-122 resource names: one parser for every service ("books/{book}/copies/{copy}" and the like).

Pure: domain code uses it. Ids minted by this mesh are UUIDs; names of another service's resources are
checked for shape only (that service owns their ids). A UUID may be spelled in any way Python's `uuid.UUID`
reads (upper case, without hyphens, `urn:uuid:`, in braces): every name taken in is written the one way the
mesh writes them (`canonical_name`), so that the spellings of one resource compare equal wherever names are
compared as strings (whose record it is, page tokens, stored references, event filters).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from services.support.runtime.errors import InvalidArgument

_VARIABLE = re.compile(r"\{(\w+)\}")
_FOREIGN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class NamePattern:
    """A resource name pattern whose variables are UUIDs, e.g. NamePattern("books/{book}/copies/{copy}")."""

    pattern: str
    _parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parts", tuple(self.pattern.split("/")))

    @property
    def collection(self) -> str:
        """The first segment ("books")."""
        return self._parts[0]

    def format(self, *ids: uuid.UUID | str) -> str:
        """books/{book} formatted with the given ids, in order."""
        variables = [index for index, part in enumerate(self._parts) if _VARIABLE.fullmatch(part)]
        if len(ids) != len(variables):
            raise ValueError(f"{self.pattern} takes {len(variables)} ids, not {len(ids)}")
        parts = list(self._parts)
        for index, value in zip(variables, ids, strict=True):
            parts[index] = str(value)
        return "/".join(parts)

    def parse(self, name: str, *, field: str = "name") -> tuple[uuid.UUID, ...]:
        """The ids a well-formed name carries; InvalidArgument naming `field` otherwise."""
        parts = name.split("/")
        if len(parts) == len(self._parts):
            ids: list[uuid.UUID] = []
            for expected, actual in zip(self._parts, parts, strict=True):
                if _VARIABLE.fullmatch(expected):
                    parsed = _uuid(actual)
                    if parsed is None:
                        break
                    ids.append(parsed)
                elif expected != actual:
                    break
            else:
                return tuple(ids)
        raise InvalidArgument.field(field, f"must look like {self.pattern} (each id a UUID)")

    def parse_id(self, name: str, *, field: str = "name") -> uuid.UUID:
        """The last id of the name: books/{book} -> book, books/{book}/copies/{copy} -> copy."""
        return self.parse(name, field=field)[-1]

    def matches(self, name: str) -> bool:
        try:
            self.parse(name)
        except InvalidArgument:
            return False
        return True


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def canonical_name(name: str) -> str:
    """`name` with each id that is a UUID in another spelling written as the mesh writes it (lower case,
    hyphenated); any other name unchanged ("users/me", a malformed one: its parser names the fault)."""
    parts = name.split("/")
    for index in range(1, len(parts), 2):
        if not _CANONICAL_UUID.fullmatch(parts[index]) and (parsed := _uuid(parts[index])) is not None:
            parts[index] = str(parsed)
    return "/".join(parts)


def check_reference(value: str, collection: str, *, field: str, required: bool = True) -> str:
    """Another service's resource name such as users/{user}, checked for shape only and returned in its
    canonical spelling (`canonical_name`): use what it returns. "" allowed when optional."""
    if not value and not required:
        return ""
    value = canonical_name(value)
    prefix, _, raw = value.partition("/")
    if prefix != collection or not _FOREIGN_ID.fullmatch(raw):
        raise InvalidArgument.field(field, f"must look like {collection}/{{id}}")
    return value
