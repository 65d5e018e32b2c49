"""What the log accepts. A bad batch is refused whole, with every bad field named (up to a limit), and no
refusal echoes what the client sent. Who may record what is recording_rights.py."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from services.events.domain.model import EPOCH, Category, NewEvent, Read
from services.support.runtime.errors import FieldViolation, InvalidArgument
from services.support.runtime.text import CONTROL

MAX_BATCH = 1000
MAX_ATTRIBUTES = 64
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 1024
MAX_EVENT_CHARS = 16 * 1024
"""Every string of an event together (type, names, attribute keys and values)."""
MAX_BATCH_BYTES = 4 * 1024 * 1024
"""A batch's encoded size (protobuf, as sent): about 250 events of 16 KiB. The journal and the store handle a
batch whole; a client splits a bigger one (the count alone would let one reach 64 MiB)."""
MAX_BATCH_READ_BYTES = 17 * 1024 * 1024
"""What the events server reads of one message: a batch over MAX_BATCH_BYTES up to 17 MiB (1000 events of 16 KiB
in ASCII, plus framing) is read and answered by MAX_BATCH_BYTES's rule, INVALID_ARGUMENT naming `events`. Not the
64 MiB the count and the per-event sizes would allow in the widest UTF-8: any signed-in reader may call this, and a
few such messages at once would fill the pod's memory. Beyond 17 MiB the transport refuses the call,
RESOURCE_EXHAUSTED without RetryInfo (the proto says: do not retry)."""
MAX_REPORTED = 20
"""Violations listed in one refusal; a batch of a thousand bad events gets a bounded answer."""
MAX_FUTURE = timedelta(days=1)
"""How far ahead of our clock an occur_time may be (client clocks drift; further is a bug)."""

TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*){1,7}")
MAX_TYPE_LENGTH = 128
EVENT_NAME = re.compile(r"events/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EVENT_NAME_LENGTH = len("events/") + 36
_EVENT_NAMES = re.compile(f"(?:{EVENT_NAME.pattern})*")
RESOURCE = re.compile(r"[a-z][A-Za-z0-9]{0,62}(?:/[A-Za-z0-9._~-]{1,128}){1,7}")
"""An actor or subject: "users/{id}", "books/{id}/copies/{id}", "services/loans"."""
SOURCE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
TRACE_ID = re.compile(r"[0-9a-f]{32}")
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,127}")
"""An attribute key, as stored and as named in a filter or a group_by (attributes.loan.patron, attributes.items[0]):
a letter or _ first. Event.attributes in events.proto states it, and KEY_RULE in a refusal."""
KEY_RULE = "keys begin with a letter or _, then letters, digits, _ . - [ ] (at most 128 characters)"
_CATEGORIES = frozenset({0, *Category})


class _Known:
    """Strings already found well-formed for one pattern. Types, actors, subjects and attribute keys repeat
    across a batch: each is matched once, not a thousand times (bounded; forgotten when full)."""

    def __init__(self, pattern: re.Pattern[str], limit: int = 10_000) -> None:
        self._pattern = pattern
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> bool:
        if value in self._seen:
            return True
        if self._pattern.fullmatch(value) is None:
            return False
        if len(self._seen) >= self._limit:
            self._seen.clear()
        self._seen.add(value)
        return True


_good_type = _Known(TYPE)
_good_resource = _Known(RESOURCE)
_good_source = _Known(SOURCE)
_good_key = _Known(KEY)


def all_event_names(names: Sequence[str]) -> bool:
    """True when each of `names` is events/{uuid}. Such names have one length, so the names joined match
    the pattern repeated exactly when each does: one regex call for a whole batch."""
    lengths = set(map(len, names))
    if lengths - {EVENT_NAME_LENGTH}:
        return False
    return _EVENT_NAMES.fullmatch("".join(names)) is not None


@dataclass(frozen=True, slots=True)
class _Times:
    """The occur_times a batch may give, in seconds since 1970."""

    latest: int
    """No more than MAX_FUTURE ahead of our clock."""
    earliest_activity: int
    """An ACTIVITY event older than the retention window would only be dropped: it is refused (kept, it
    would land outside every monthly partition and outlive the window)."""
    retention: timedelta | None


def check_batch_size(size: int, *, field: str = "events") -> None:
    """InvalidArgument when a batch's encoded `size` is over MAX_BATCH_BYTES: it can never be accepted whole."""
    if size > MAX_BATCH_BYTES:
        mib = MAX_BATCH_BYTES // (1024 * 1024)
        raise InvalidArgument.field(field, f"the batch is {size:,} bytes encoded, over {mib} MiB: split it")


def check_batch(
    events: Sequence[NewEvent],
    *,
    now: datetime,
    field: str = "events",
    single: bool = False,
    activity_retention: timedelta | None = None,
) -> None:
    """InvalidArgument naming each bad field as events[i].field (event.field for a `single` event);
    nothing of a bad batch is accepted. With `activity_retention`, an ACTIVITY event older than it is bad."""
    if not events:
        raise InvalidArgument.field(field, "must hold at least one event")
    if len(events) > MAX_BATCH:
        raise InvalidArgument.field(field, f"at most {MAX_BATCH} events per call")
    earliest = 0 if activity_retention is None else math.ceil((now - activity_retention - EPOCH).total_seconds())
    times = _Times(int((now + MAX_FUTURE - EPOCH).total_seconds()), earliest, activity_retention)
    if _all_clean(events, times):
        return
    violations: list[FieldViolation] = []
    seen: dict[str, int] = {}
    for index, event in enumerate(events):
        problems = _event_problems(event, times)
        name = event.name.lower()
        if name and not problems:
            first = seen.setdefault(name, index)
            if first != index:
                problems = [("name", f"repeats {field}[{first}].name: each event of a batch needs its own")]
        where = field if single else f"{field}[{index}]"
        violations.extend(FieldViolation(f"{where}.{path}", text) for path, text in problems)
        if len(violations) >= MAX_REPORTED:
            break
    if violations:
        raise InvalidArgument(violations[:MAX_REPORTED])


_ATTRIBUTE_CHARS_ALWAYS_FINE = MAX_EVENT_CHARS - MAX_TYPE_LENGTH - 64 - 2 * (63 + 7 * 129)
"""Attribute characters an event may hold whatever its other (well-formed) strings: type, source, actor and
subject at their longest."""


def _all_clean(events: Sequence[NewEvent], times: _Times) -> bool:
    """True when no event of the batch has a problem, found column by column (each distinct value checked
    once, most loops in C): about a fifth of the cost of checking event by event. False does not mean a
    problem: the event-by-event check then finds and names them (this one only says a batch is clean)."""
    events = list(events)  # the wire's repeated field, walked a dozen times: a list walks faster
    names = list(filter(None, map(Read.name, events)))
    if not all_event_names(names) or len(set(map(str.lower, names))) != len(names):
        return False
    if not all(kind and len(kind) <= MAX_TYPE_LENGTH and _good_type(kind) for kind in set(map(Read.type, events))):
        return False
    if not set(map(Read.category, events)) <= _CATEGORIES:
        return False
    stamps = list(map(Read.occur_time, events))
    seconds, nanos = list(map(Read.seconds, stamps)), list(map(Read.nanos, stamps))
    earliest = max(1, times.earliest_activity)  # an older event may be AUDIT (kept): the check of each tells
    if min(seconds) < earliest or max(seconds) > times.latest or min(nanos) < 0 or max(nanos) >= 1_000_000_000:
        return False
    resources = set(map(Read.actor, events)) | set(map(Read.subject, events))
    if not all(map(_good_resource, resources - {""})):
        return False
    if not all(map(_good_source, set(map(Read.source, events)) - {""})):
        return False
    if not all(map(TRACE_ID.fullmatch, set(map(Read.trace_id, events)) - {""})):
        return False
    return _all_attributes_clean(events)


def _all_attributes_clean(events: Sequence[NewEvent]) -> bool:
    """Column by column too: one event's attributes are at most its count times the longest key and value
    of the batch, so the size of each is bounded without adding up each (False: some event may be too big)."""
    maps = list(map(Read.attributes, events))
    most = max(map(len, maps))
    if not most:
        return True
    if most > MAX_ATTRIBUTES:
        return False
    keys = set(chain.from_iterable(maps))  # iterating the wire's map directly is fast; its views are not
    values = [entries[key] for entries in maps for key in entries]
    longest = max(map(len, values))
    if longest > MAX_VALUE_LENGTH or most * (max(map(len, keys)) + longest) > _ATTRIBUTE_CHARS_ALWAYS_FINE:
        return False
    return all(map(_good_key, keys)) and not CONTROL.search("".join(values))


def _event_problems(event: NewEvent, times: _Times) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if event.name and not EVENT_NAME.fullmatch(event.name):
        problems.append(("name", "must look like events/{event}, {event} a UUID"))
    kind = event.type
    if not kind:
        problems.append(("type", "is required"))
    elif len(kind) > MAX_TYPE_LENGTH or not _good_type(kind):
        problems.append(("type", "must be dotted lowercase words, e.g. web.search (at most 128 characters)"))
    if event.category not in _CATEGORIES:
        problems.append(("category", "is not a known category"))
    stamp = event.occur_time
    if stamp.seconds == 0 and stamp.nanos == 0:
        problems.append(("occur_time", "is required"))
    elif stamp.seconds < 0 or stamp.seconds > times.latest or not 0 <= stamp.nanos < 1_000_000_000:
        problems.append(("occur_time", "must be after 1970 and no more than a day ahead of the server's clock"))
    elif stamp.seconds < times.earliest_activity and event.category != Category.AUDIT and times.retention:
        days = times.retention / timedelta(days=1)
        problems.append(("occur_time", f"must be within the last {days:g} days: older ACTIVITY is not kept"))
    for path, value in (("actor", event.actor), ("subject", event.subject)):
        if value and not _good_resource(value):
            problems.append((path, "must be a resource name such as users/{user}"))
    if event.source and not _good_source(event.source):
        problems.append(("source", "must be a lowercase word such as web (at most 64 characters)"))
    if event.trace_id and not TRACE_ID.fullmatch(event.trace_id):
        problems.append(("trace_id", "must be 32 lowercase hex digits (a W3C trace id)"))
    problems.extend(_attribute_problems(event))
    return problems


def _attribute_problems(event: NewEvent) -> list[tuple[str, str]]:
    attributes = event.attributes
    if not attributes:
        return []
    if len(attributes) > MAX_ATTRIBUTES:
        return [("attributes", f"at most {MAX_ATTRIBUTES} attributes")]
    size = len(event.type) + len(event.actor) + len(event.subject) + len(event.source)
    keys = list(attributes)  # iterating the wire's map directly is fast; its views are not
    if not all(map(_good_key, keys)):
        return [("attributes", KEY_RULE)]
    values = [attributes[key] for key in keys]
    if max(map(len, values)) > MAX_VALUE_LENGTH or CONTROL.search("".join(values)):
        return [("attributes", f"values are at most {MAX_VALUE_LENGTH} characters, without control characters")]
    size += sum(map(len, keys)) + sum(map(len, values))
    if size > MAX_EVENT_CHARS:
        return [("attributes", f"the event is larger than {MAX_EVENT_CHARS} characters")]
    return []


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def check_request_id(request_id: str) -> None:
    if request_id and not _UUID.fullmatch(request_id):
        raise InvalidArgument.field("request_id", "must be a UUID")
