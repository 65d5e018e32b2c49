"""The library's item types (Koha's itemtypes): the list a copy's type is chosen from, and which may not be lent."""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, unquote

from services.support.runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    collect_violations,
)
from services.support.runtime.events import DomainEvent
from services.support.runtime.versioning import Versioned

COLLECTION = "itemTypes"
MAX_DESCRIPTION = 100
ITEM_TYPE_FIELDS = ("description", "not_for_loan")
ITEM_TYPE_OUTPUT_ONLY = ("name", "code", "create_time", "update_time", "etag")
_CODE = re.compile(r"[A-Z0-9_-]{1,20}")
# What a copy's item type could be before codes were checked (free text, upper-cased, up to 64 characters):
# catalog migration 0010 seeded the list with such codes ("LARGE PRINT", "DVD/CD", "КНИГА"), and they must stay
# nameable to be read, changed, renamed or deleted.
MAX_STORED_CODE = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def spelt_code(code: str) -> str:
    """A code as it is kept: trimmed, upper case (a cataloguer may type "dvd"). Only a-z are upper-cased: any
    other character stays as typed, so that a code holding one is refused, not turned by `str.upper` into
    another, valid code ("\u00df" into "SS", the dotless i "\u0131" into "I", the long s "\u017f" into "S")."""
    return code.strip().translate(_ASCII_UPPER)


def code_violation(code: str, field: str) -> FieldViolation | None:
    if _CODE.fullmatch(code):
        return None
    return FieldViolation(field, "must be 1-20 characters of A-Z, 0-9, _ and -")


def item_type_name(code: str) -> str:
    """ "itemTypes/{code}", the code percent-encoded (RFC 3986): a code of today's rule is itself, and one kept
    from before it ("LARGE PRINT", "DVD/CD") is still one URL path segment, ready to put in a URL."""
    return f"{COLLECTION}/{quote(code, safe='')}"


def parse_item_type_name(name: str, *, field: str = "name") -> str:
    """The code of "itemTypes/{code}" (in any letter case, percent-encoded or not); InvalidArgument otherwise.
    Besides a code of today's rule, any code a type stored before it could have is taken (looked up as it is:
    NOT_FOUND when no type has it), so that such a type can be read, changed, renamed and deleted."""
    collection, _, code = name.partition("/")
    # The edge decodes a path's %XX but those of reserved characters ("%2F" for "/"), a gRPC caller may send
    # either: a code is decoded once (a "%" in a code is sent as "%25").
    code = spelt_code(unquote(code))
    if collection != COLLECTION or not (0 < len(code) <= MAX_STORED_CODE) or _CONTROL.search(code):
        raise InvalidArgument.field(field, "must be itemTypes/{code}, the code of an item type (see ListItemTypes)")
    return code


def _description_violation(description: str, field: str) -> FieldViolation | None:
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        return FieldViolation(field, f"must be 1-{MAX_DESCRIPTION} characters")
    if _CONTROL.search(description):
        return FieldViolation(field, "must not contain control characters")
    return None


@dataclass(slots=True)
class ItemType(Versioned):
    """A kind of copy; `not_for_loan` copies stay in the library (reference): never lent, never held."""

    code: str
    description: str
    not_for_loan: bool
    created_at: datetime
    updated_at: datetime
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list)
    renamed_at: datetime | None = None
    """When it took its code (a rename); None for a type never renamed."""

    @property
    def id(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return item_type_name(self.code)

    @classmethod
    def create(cls, code: str, description: str, *, not_for_loan: bool, now: datetime) -> ItemType:
        """INVALID_ARGUMENT for a code or a description out of bounds (every bad field at once)."""
        code, description = spelt_code(code), description.strip()
        collect_violations(
            code_violation(code, "item_type.code"), _description_violation(description, "item_type.description")
        )
        kind = cls(code, description, not_for_loan, created_at=now, updated_at=now)
        kind.events.append(ItemTypeChanged(occurred_at=now, item_type=kind))
        return kind

    def revise(self, *, description: str, not_for_loan: bool, paths: Collection[str], now: datetime) -> None:
        """The fields named in `paths` (description, not_for_loan); a change of nothing records nothing."""
        before = self.snapshot()
        if "description" in paths:
            description = description.strip()
            collect_violations(_description_violation(description, "item_type.description"))
            self.description = description
        if "not_for_loan" in paths:
            self.not_for_loan = not_for_loan
        changed = tuple(p for p in ITEM_TYPE_FIELDS if getattr(self, p) != getattr(before, p))
        if changed:
            self.updated_at, self.version = now, self.version + 1
            self.events.append(ItemTypeChanged(occurred_at=now, item_type=self, changed=changed, previous=before))

    def renamed(self, new_code: str, *, now: datetime) -> ItemType:
        """The same type under a code of today's rule (INVALID_ARGUMENT on `new_code` otherwise); its copies are
        the caller's to move. Recorded as a change of `code`, the old one kept in the event (the audit trail)."""
        code = spelt_code(new_code)
        collect_violations(code_violation(code, "new_code"))
        if code == self.code:
            raise InvalidArgument.field("new_code", "is the type's code already")
        kind = ItemType(
            code, self.description, self.not_for_loan, self.created_at, now, self.version + 1, renamed_at=now
        )
        kind.events.append(
            ItemTypeChanged(occurred_at=now, item_type=kind, changed=("code",), previous=self.snapshot())
        )
        return kind

    def delete(self, *, copies: int, now: datetime) -> None:
        """Refused while `copies` copies have this type: they would name a type the list no longer has."""
        if copies:
            raise ItemTypeInUse(self.code, copies)
        self.events.append(ItemTypeChanged(occurred_at=now, item_type=self, deleted=True))

    def snapshot(self) -> ItemType:
        """A copy of the current values without events (what an event keeps of it)."""
        return ItemType(
            self.code,
            self.description,
            self.not_for_loan,
            self.created_at,
            self.updated_at,
            self.version,
            renamed_at=self.renamed_at,
        )


@dataclass(frozen=True, kw_only=True)
class ItemTypeChanged(DomainEvent):
    item_type: ItemType
    deleted: bool = False
    changed: tuple[str, ...] = ()
    previous: ItemType | None = None

    @property
    def changes_availability(self) -> bool:
        """Whether books' answers may differ: copies of the type moved between lendable and reference, or now
        have another item type (a rename)."""
        return "not_for_loan" in self.changed or "code" in self.changed


class ItemTypeNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(item_type_name(code), f"no item type {code}; see ListItemTypes", reason="ITEM_TYPE_NOT_FOUND")


class ItemTypeExists(AlreadyExists):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"item type {code} already exists", reason="ITEM_TYPE_EXISTS", metadata={"item_type": item_type_name(code)}
        )


class ItemTypeInUse(FailedPrecondition):
    def __init__(self, code: str, copies: int) -> None:
        noun = "copy has" if copies == 1 else "copies have"
        super().__init__(
            f"item type {code} cannot be deleted: {copies} {noun} it; give them another type first",
            reason="ITEM_TYPE_IN_USE",
            metadata={"item_type": item_type_name(code), "copies": str(copies)},
        )


class UnknownItemType(InvalidArgument):
    """A copy's item type that is not in the list (a typo such as "BOK" no longer falls to the "*" rule)."""

    reason = "UNKNOWN_ITEM_TYPE"

    def __init__(self, code: str, field: str = "copy.item_type") -> None:
        shown = code if len(code) <= 64 else code[:64] + "…"
        super().__init__(
            FieldViolation(field, f"unknown item type {shown}: define it in itemTypes first"),
        )


@dataclass(frozen=True, slots=True)
class ItemTypeFilter:
    """Which copies a circulation step may pick by their item type (the loans service's rules say which the
    patron may borrow or hold): one of `only` (empty: any type) and none of `excluded`."""

    only: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @classmethod
    def of(cls, only: Iterable[str] = (), excluded: Iterable[str] = ()) -> ItemTypeFilter:
        """Spelt as copies store their item type (trimmed, upper case), each once."""

        def spelt(types: Iterable[str]) -> tuple[str, ...]:
            return tuple(sorted({spelt_code(kind) for kind in types} - {""}))

        return cls(spelt(only), spelt(excluded))

    @property
    def narrows(self) -> bool:
        return bool(self.only or self.excluded)

    def admits(self, item_type: str) -> bool:
        return item_type not in self.excluded and (not self.only or item_type in self.only)

    @property
    def described(self) -> str:
        """E.g. "of type BOOK or DVD", "other than REFERENCE"."""
        parts = [f"of type {' or '.join(self.only)}"] if self.only else []
        return " ".join([*parts, f"other than {', '.join(self.excluded)}"] if self.excluded else parts)


ANY_ITEM_TYPE = ItemTypeFilter()
