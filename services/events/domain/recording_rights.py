"""Who may record what in the log: nobody the mesh's own event types; staff anything else, but a person's
AUDIT event only in their own name, now, in the trace of their call; a reader their own ACTIVITY only.
(What the log accepts of any recorder, field by field, is rules.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from services.events.domain.model import EPOCH, Category, NewEvent, Recorder
from services.support.runtime.errors import PermissionDenied

MESH_WORD = "athenaeum"
"""How the mesh's own event types begin: they reach the log from the message bus only. Recorded by a client,
`athenaeum.loans.loan_issued` would be counted with the real issues wherever the log is aggregated by type (the
admins' dashboard is), and a look-alike such as `athenaeum_loans.fine_assessed` read as the mesh's own."""


AUDIT_CLOCK_SKEW = timedelta(minutes=5)
"""How far from our clock a person's AUDIT event may say it happened: it records what they do now (a desk's
clock may drift, a call may be retried), not an entry slipped in among the past (the trail's order is time)."""


def check_may_record(
    events: Sequence[NewEvent],
    recorder: Recorder,
    *,
    now: datetime,
    trace_id: str,
    mesh_sources: frozenset[str] = frozenset(),
) -> None:
    """No one records the mesh's own types (nor look-alikes); staff record anything else, but an AUDIT event
    only as themselves, under a name the log mints, now (within AUDIT_CLOCK_SKEW), in the trace of the record
    call (`trace_id`) and not as from one of `mesh_sources` (the mesh's own services): the audit trail must not
    hold an entry a librarian wrote in an admin's name, as the loans service, backdated, inside another
    request's trace or under a genuine record's name. A reader records their own ACTIVITY only (no AUDIT, no one
    else's name). A peer service of the mesh records as it needs."""
    for event in events:
        if event.type.startswith(MESH_WORD):
            raise PermissionDenied(
                f"types beginning {MESH_WORD!r} are the mesh's own: name yours otherwise", reason="MESH_EVENT_TYPE"
            )
    if recorder.staff:
        if recorder.name.startswith(PERSON):
            _check_own_audit(events, recorder, mesh_sources, now=now, trace_id=trace_id)
        return
    for event in events:
        if event.category == Category.AUDIT:
            raise PermissionDenied("only staff may record AUDIT events", reason="AUDIT_IS_STAFF_ONLY")
        if event.actor and event.actor != recorder.name:
            raise PermissionDenied("a reader may record only their own activity", reason="NOT_YOUR_ACTIVITY")


PERSON = "users/"


def _check_own_audit(
    events: Sequence[NewEvent], recorder: Recorder, mesh_sources: frozenset[str], *, now: datetime, trace_id: str
) -> None:
    earliest = (now - AUDIT_CLOCK_SKEW - EPOCH).total_seconds()
    latest = (now + AUDIT_CLOCK_SKEW - EPOCH).total_seconds()
    minutes = AUDIT_CLOCK_SKEW / timedelta(minutes=1)
    for event in events:
        if event.category != Category.AUDIT:
            continue
        if event.actor and event.actor != recorder.name:
            raise PermissionDenied(
                "an AUDIT event is recorded in its recorder's name: leave `actor` empty", reason="NOT_YOUR_AUDIT"
            )
        if event.name:  # a chosen name could be a genuine record's, which GetEvent would then have to choose
            raise PermissionDenied(
                "a person's AUDIT event is named by the log: leave `name` empty (request_id makes a retry safe)",
                reason="AUDIT_NAME_IS_MINTED",
            )
        if event.source in mesh_sources:
            raise PermissionDenied(
                f"the source {event.source!r} is the mesh's own: name your client otherwise",
                reason="MESH_EVENT_SOURCE",
            )
        if not earliest <= event.occur_time.seconds + event.occur_time.nanos / 1e9 <= latest:
            raise PermissionDenied(
                f"an AUDIT event records what you do now: occur_time must be within {minutes:g} minutes of the "
                "server's clock",
                reason="AUDIT_NOT_NOW",
            )
        if event.trace_id and event.trace_id != trace_id:
            raise PermissionDenied(
                "an AUDIT event belongs to the trace of its record call: leave `trace_id` empty",
                reason="NOT_YOUR_TRACE",
            )
