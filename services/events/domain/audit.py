"""The audit trail: any domain event of the mesh as an AUDIT record, by rules that know no context.

A payload arrives flattened to (dotted path, text) pairs in field order. Its subject is its first `name`
(top level, or of its first message field: LoanIssued.loan.name); its actor the first `*_by` field (a name,
or "anonymous" when the payload says an unknown caller acted: a failed sign-in, a reset request), else the
signed-in user the outbox saw at commit, else the account itself for an anonymous call acting on an account
(registering, signing in), else the service that published it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.events.domain.model import Category, EventRecord
from services.events.domain.rules import MAX_ATTRIBUTES, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, RESOURCE

ANONYMOUS = "anonymous"
"""The outbox's actor header for a call from outside the mesh without a signed-in user."""
SKIPPED = frozenset({"event_id", "occur_time"})
MAX_RESOURCES = 32
_FOREIGN_IDS = uuid.UUID("6f0d1c1e-5a7e-4c1b-9a53-1d5bd1e8c0a1")


def audit_record(
    *,
    event_id: str,
    type: str,
    context: str,
    occur_time: datetime,
    record_time: datetime,
    fields: Sequence[tuple[str, str]],
    actor_hint: str = "",
    trace_id: str = "",
) -> EventRecord:
    """The AUDIT record of one domain event of `context` (e.g. "loans")."""
    kept = [(path, value) for path, value in fields if path not in SKIPPED and value]
    subject = _subject(kept)
    return EventRecord(
        id=_event_id(event_id),
        type=type,
        category=Category.AUDIT,
        occur_time=occur_time,
        record_time=record_time,
        actor=_actor(kept, actor_hint=actor_hint, subject=subject, context=context),
        subject=subject,
        source=context,
        trace_id=trace_id,
        attributes={path[:MAX_KEY_LENGTH]: value[:MAX_VALUE_LENGTH] for path, value in kept[:MAX_ATTRIBUTES]},
        resources=_resources(subject, kept),
    )


def _event_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:  # every payload of ours carries a UUID; keep another's stable all the same
        return uuid.uuid5(_FOREIGN_IDS, raw)


def _subject(fields: Sequence[tuple[str, str]]) -> str:
    for path, value in fields:
        parts = path.split(".")
        if parts[-1] == "name" and len(parts) <= 2 and RESOURCE.fullmatch(value):
            return value
    return ""


def _actor(fields: Sequence[tuple[str, str]], *, actor_hint: str, subject: str, context: str) -> str:
    for path, value in fields:
        if "." not in path and path.endswith("_by") and (value == ANONYMOUS or RESOURCE.fullmatch(value)):
            return value  # "anonymous": the payload says no one known acted (a stranger's failed sign-in)
    if actor_hint == ANONYMOUS:
        return subject if subject.startswith("users/") else ""
    if actor_hint and RESOURCE.fullmatch(actor_hint):
        return actor_hint
    return f"services/{context}"


def _resources(subject: str, fields: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The resource names of the event and their parents: what happened to "books/9/copies/3" happened to
    "books/9" too (a copy_created names its copy only, and "who did what to this book" must find it)."""
    found: dict[str, None] = {}
    for value in [subject, *(value for _, value in fields)]:
        if len(found) >= MAX_RESOURCES:
            break
        if "/" in value and RESOURCE.fullmatch(value):
            parts = value.split("/")
            found.update(dict.fromkeys(["/".join(parts[:end]) for end in range(2, len(parts), 2)]))
            found[value] = None
    return tuple(found)[:MAX_RESOURCES]
