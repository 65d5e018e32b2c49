"""A reader taken out of their reading history: the AUDIT records of their loans, holds, fines and notices
keep what happened to which book, but no longer say whose (library ethics: a reading history is the
reader's; Koha's AnonymousPatron, Evergreen's aged circulations)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from services.events.domain.model import Category, EventRecord
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.names import canonical_name

ANONYMOUS_PATRON = "users/anonymous"
"""Who the anonymised records name instead of the reader (no account has it: theirs are UUIDs)."""
READING_TYPES = ("athenaeum.loans.", "athenaeum.notifications.")
"""The records that make up a reading history; the account's own (athenaeum.users.) stay as they are."""
_PATRON = re.compile(r"users/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def patron_name(raw: str) -> str:
    """The reader's name as the trail spells it; InvalidArgument for anything but users/{uuid}."""
    name = canonical_name(raw.strip())
    if not _PATRON.fullmatch(name):
        raise InvalidArgument.field("patron", "must be users/{user}, {user} the account's UUID")
    return name


def is_readers(record: EventRecord, patron: str, before: datetime | None) -> bool:
    """Whether `record` is one of `patron`'s reading history (older than `before`, when given)."""
    return (
        record.category == Category.AUDIT
        and record.type.startswith(READING_TYPES)
        and patron in record.resources
        and (before is None or record.occur_time < before)
    )


def anonymized(record: EventRecord, patron: str) -> EventRecord:
    """`record` with `patron` replaced wherever it stands (data/repository.py does the same in SQL)."""

    def swap(value: str) -> str:
        return ANONYMOUS_PATRON if value == patron else value

    return replace(
        record,
        actor=swap(record.actor),
        subject=swap(record.subject),
        attributes={key: swap(value) for key, value in record.attributes.items()},
        resources=tuple(swap(value) for value in record.resources),
    )
