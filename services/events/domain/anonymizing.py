"""A reader taken out of their reading history: the AUDIT records of their loans, holds, fines and notices
keep what happened to which book, but no longer say whose (library ethics: a reading history is the
reader's; Koha's AnonymousPatron, Evergreen's aged circulations).

Which records those are, from the payloads of every context: the reader is named by a field of the payload
(loans' `loan.patron`, `hold.patron`, `fine.patron`; notifications' `notification.recipient`: the attributes,
so the record's resources), or as its actor when the record's payload names nobody (the catalog's
`copy_status_changed` of a copy set aside for the reader's hold, or released when they cancelled it: the
loans service asked on their behalf). The account's own records (athenaeum.users.*: registration, sign-ins,
status) stay, as do the trail's own (athenaeum.events.*: an anonymisation). Only the reader's name goes: the
staff member a record names (`waived_by`, `loan.issued_by`, the actor of a fine waived) stays, so staff acts
on a reader's loans and money remain attributable. A staff account is refused (check_reader): its records
are its acts as staff, which must stay attributable."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from services.events.domain.model import Category, EventRecord
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.names import canonical_name

ANONYMOUS_PATRON = "users/anonymous"
"""Who the anonymised records name instead of the reader (no account has it: theirs are UUIDs)."""
MESH_TYPES = "athenaeum."
"""The mesh's own records (from its contexts' domain events); those people record are not the mesh's word."""
KEPT_TYPES = ("athenaeum.users.", "athenaeum.events.")
"""The account's own records, and the trail's record of each anonymisation: never rewritten."""
ACCOUNT_TYPES = ("athenaeum.users.user_registered", "athenaeum.users.user_updated")
"""The account's records whose `user.role` attribute says what the account was at the time."""
READER = "USER_ROLE_READER"
ANONYMIZED = "athenaeum.events.patron_history_anonymized"
"""The type of the trail's record of an anonymisation (who asked, for which account, how many records)."""
_PATRON = re.compile(r"users/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def patron_name(raw: str) -> str:
    """The reader's name as the trail spells it; InvalidArgument for anything but users/{uuid}."""
    name = canonical_name(raw.strip())
    if not _PATRON.fullmatch(name):
        raise InvalidArgument.field("patron", "must be users/{user}, {user} the account's UUID")
    return name


def check_reader(patron: str, roles: Collection[str]) -> None:
    """`roles`: what the account's own records say it was (ACCOUNT_TYPES). NotFound when they say nothing;
    FailedPrecondition when the account is or was staff: its records then hold its acts as staff (a fine it
    waived; a copy it lent at the desk, named only as the catalog record's actor), which must stay attributable
    and which the rule cannot tell from its acts as a reader."""
    if not roles:
        raise NotFound(patron, f"the audit trail holds no account {patron} (or has not read its registration yet)")
    if set(roles) - {READER}:
        raise FailedPrecondition(
            f"{patron} is or was a staff account: the audit trail keeps its acts attributable", reason="NOT_A_READER"
        )


def is_readers(record: EventRecord, patron: str, before: datetime | None) -> bool:
    """Whether `record` is one of `patron`'s reading history (older than `before`, when given)."""
    return (
        record.category == Category.AUDIT
        and record.type.startswith(MESH_TYPES)
        and not record.type.startswith(KEPT_TYPES)
        and (patron in record.resources or record.actor == patron)
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


def anonymization_record(
    *, patron: str, requested_by: str, count: int, before: datetime | None, now: datetime, trace_id: str = ""
) -> EventRecord:
    """The trail's record of an anonymisation: who asked, for which account, how many records (never what
    was removed from them)."""
    attributes = {"patron": patron, "anonymized_count": str(count)}
    if before is not None:
        attributes["before_time"] = before.isoformat().replace("+00:00", "Z")  # as payloads spell times
    return EventRecord(
        id=uuid.uuid4(),
        type=ANONYMIZED,
        category=Category.AUDIT,
        occur_time=now,
        record_time=now,
        actor=requested_by,
        subject=patron,
        source="events",
        trace_id=trace_id,
        attributes=attributes,
        resources=(patron,),
    )
