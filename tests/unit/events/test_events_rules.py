"""What the log accepts: a bad batch is refused whole, each bad field named by index, nothing echoed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import LIBRARIAN, READER, Draft, Stamp

from services.events.domain.model import Category, Recorder
from services.events.domain.recording_rights import AUDIT_CLOCK_SKEW, check_may_record
from services.events.domain.rules import (
    MAX_ATTRIBUTES,
    MAX_BATCH,
    MAX_REPORTED,
    check_batch,
    check_request_id,
)
from services.support.runtime.errors import InvalidArgument, PermissionDenied

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
NAME = "events/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"


def violations(events: list[Draft], **kwargs: object) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as refused:
        check_batch(events, now=NOW, **kwargs)  # type: ignore[arg-type]
    return {v.field: v.description for v in refused.value.violations}


def test_a_well_formed_batch_is_accepted() -> None:
    check_batch(
        [
            Draft(),
            Draft(
                name=NAME, type="athenaeum.loans.loan_issued", category=2, actor="users/x", subject="books/b/copies/c"
            ),
            Draft(source="web", trace_id="0" * 31 + "1", attributes={"query": "Мастер и Маргарита", "page": "1"}),
        ],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (Draft(type=""), "type"),
        (Draft(type="Web Search"), "type"),
        (Draft(type="search"), "type"),
        (Draft(type="web." + "a" * 130), "type"),
        (Draft(occur_time=Stamp()), "occur_time"),
        (Draft(occur_time=Stamp(-5)), "occur_time"),
        (Draft(occur_time=Stamp(int(NOW.timestamp()) + 2 * 86400)), "occur_time"),
        (Draft(occur_time=Stamp(1_796_000_000, 2_000_000_000)), "occur_time"),
        (Draft(name="events/not-a-uuid"), "name"),
        (Draft(name="books/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11"), "name"),
        (Draft(category=7), "category"),
        (Draft(actor="nobody"), "actor"),
        (Draft(subject="books/\x00"), "subject"),
        (Draft(source="Web Site"), "source"),
        (Draft(trace_id="xyz"), "trace_id"),
        (Draft(attributes={"bad key": "v"}), "attributes"),
        (Draft(attributes={"k": "\x00"}), "attributes"),
        (Draft(attributes={"k": "next\x85line"}), "attributes"),  # C1 controls
        (Draft(attributes={"k": "\x9b31mred"}), "attributes"),
        (Draft(attributes={"k": "\u202eevil"}), "attributes"),  # bidi overrides and isolates
        (Draft(attributes={"k": "a\u2066b"}), "attributes"),
        (Draft(attributes={"k": "v" * 1025}), "attributes"),
        (Draft(attributes={f"k{i}": "v" for i in range(MAX_ATTRIBUTES + 1)}), "attributes"),
        (Draft(attributes={f"k{i}": "v" * 1000 for i in range(20)}), "attributes"),
    ],
)
def test_a_bad_field_is_named_with_the_index_of_its_event(draft: Draft, field: str) -> None:
    assert list(violations([Draft(), draft])) == [f"events[1].{field}"]


@pytest.mark.parametrize("index", [0, 499, MAX_BATCH - 1])
def test_one_bad_event_in_a_full_batch_is_found_wherever_it_is(index: int) -> None:
    names = [f"events/6f1c2d1e-8b0a-4a57-9d0e-{n:012x}" for n in range(MAX_BATCH)]
    batch = [Draft(name=name, attributes={"page": name[-3:]}) for name in names]
    batch[index] = Draft(attributes={"k": "\x7f"})
    assert list(violations(batch)) == [f"events[{index}].attributes"]


def test_well_formed_events_at_the_limits_are_accepted() -> None:
    # Neither is clean at a glance of the whole batch (a moment within 1970's first second, attributes near
    # the event's size limit): each is then checked on its own, and accepted.
    check_batch([Draft(), Draft(occur_time=Stamp(0, 5))], now=NOW)
    check_batch([Draft(), Draft(attributes={f"k{i}": "v" * 1000 for i in range(15)})], now=NOW)


def test_activity_older_than_the_retention_window_is_refused_naming_the_window_and_audit_is_not() -> None:
    """Kept, a backdated ACTIVITY event would land outside every monthly partition and outlive the window."""
    retention = timedelta(days=90)
    oldest = Stamp(int((NOW - retention).timestamp()))
    check_batch([Draft(occur_time=oldest), Draft()], now=NOW, activity_retention=retention)
    old = Stamp(oldest.seconds - 1)
    check_batch([Draft(), Draft(occur_time=old, category=Category.AUDIT)], now=NOW, activity_retention=retention)
    check_batch([Draft(occur_time=Stamp(1))], now=NOW)  # no window given: no such limit
    for category in (0, Category.ACTIVITY):
        found = violations([Draft(), Draft(occur_time=old, category=category)], activity_retention=retention)
        assert list(found) == ["events[1].occur_time"] and "90 days" in found["events[1].occur_time"]


def test_a_single_event_is_named_event_dot_field() -> None:
    assert list(violations([Draft(type="")], field="event", single=True)) == ["event.type"]


def test_two_events_with_one_name_are_refused_naming_the_first() -> None:
    found = violations([Draft(name=NAME), Draft(), Draft(name=NAME.upper().replace("EVENTS", "events"))])
    assert list(found) == ["events[2].name"] and "events[0].name" in found["events[2].name"]


def test_an_empty_or_oversized_batch_is_refused() -> None:
    assert list(violations([])) == ["events"]
    assert list(violations([Draft()] * (MAX_BATCH + 1))) == ["events"]


def test_a_refusal_lists_a_bounded_number_of_violations_and_echoes_nothing() -> None:
    found = violations([Draft(type="SECRET-VALUE")] * MAX_BATCH)
    assert len(found) == MAX_REPORTED
    assert not any("SECRET" in text for text in found.values())


TRACE = "4ac50cba2c2ac70dd41aa9bbf487bf89"
"""The record call's own trace."""
AT_ONCE = Stamp(int(NOW.timestamp()))


def may_record(events: list[Draft], recorder: Recorder, **kwargs: object) -> None:
    check_may_record(events, recorder, now=NOW, trace_id=TRACE, **kwargs)  # type: ignore[arg-type]


def audit(**fields: object) -> Draft:
    """A person's AUDIT event as it should be: of now, in no other trace."""
    return Draft(category=Category.AUDIT, **{"occur_time": AT_ONCE, **fields})  # type: ignore[arg-type]


def test_a_reader_records_only_their_own_activity() -> None:
    may_record([Draft(), Draft(actor=READER.name)], READER)
    with pytest.raises(PermissionDenied):
        may_record([audit()], READER)
    with pytest.raises(PermissionDenied):
        may_record([Draft(actor=LIBRARIAN.name)], READER)


MESH = frozenset({"loans", "users"})


def test_staff_record_audit_events_only_in_their_own_name_and_not_as_a_service_of_the_mesh() -> None:
    """A librarian could write "loan returned, waiver by the admin" into the audit trail as the admin, or as
    the loans service, beside the mesh's own entries."""
    may_record([audit(), audit(actor=LIBRARIAN.name)], LIBRARIAN, mesh_sources=MESH)
    for forged, reason in [
        (audit(actor=READER.name), "NOT_YOUR_AUDIT"),
        (audit(actor="services/loans"), "NOT_YOUR_AUDIT"),
        (audit(source="loans"), "MESH_EVENT_SOURCE"),
        (audit(name=NAME), "AUDIT_NAME_IS_MINTED"),
    ]:
        with pytest.raises(PermissionDenied) as refused:
            may_record([audit(), forged], LIBRARIAN, mesh_sources=MESH)
        assert refused.value.reason == reason
    # Activity on someone's behalf (a desk application's), and a peer service of the mesh, as before.
    may_record([Draft(actor=READER.name, source="loans")], LIBRARIAN, mesh_sources=MESH)
    peer = Recorder("services/loans", staff=True)
    may_record([Draft(category=Category.AUDIT, actor=READER.name, source="loans")], peer, mesh_sources=MESH)


def test_a_person_s_audit_event_happens_now_in_the_trace_of_its_own_record_call() -> None:
    """Else a librarian lists "issued without checking id" at a colleague's exact return, inside its trace."""
    skew = int(AUDIT_CLOCK_SKEW.total_seconds())
    may_record([audit(occur_time=Stamp(AT_ONCE.seconds - skew)), audit(occur_time=Stamp(AT_ONCE.seconds + skew))],
               LIBRARIAN)  # fmt: skip
    may_record([audit(trace_id=TRACE)], LIBRARIAN)  # its own trace, said again
    for forged, reason in [
        (audit(occur_time=Stamp(1)), "AUDIT_NOT_NOW"),
        (audit(occur_time=Stamp(AT_ONCE.seconds - skew - 1)), "AUDIT_NOT_NOW"),
        (audit(occur_time=Stamp(AT_ONCE.seconds + skew + 1)), "AUDIT_NOT_NOW"),
        (audit(trace_id="0" * 31 + "1"), "NOT_YOUR_TRACE"),
    ]:
        with pytest.raises(PermissionDenied) as refused:
            may_record([audit(), forged], LIBRARIAN)
        assert refused.value.reason == reason
    # ACTIVITY may be of any time and trace; a peer service of the mesh records its AUDIT as it happened.
    may_record([Draft(occur_time=Stamp(1), trace_id="0" * 31 + "1")], LIBRARIAN)
    peer = Recorder("services/loans", staff=True)
    may_record([Draft(category=Category.AUDIT, occur_time=Stamp(1), trace_id="0" * 31 + "1")], peer)


@pytest.mark.parametrize("recorder", [READER, LIBRARIAN], ids=["reader", "staff"])
def test_no_one_records_the_mesh_s_own_types_which_the_dashboard_counts(recorder: Recorder) -> None:
    forged = Draft(type="athenaeum.loans.loan_issued", attributes={"loan.book_title": "Buy at evil.example"})
    with pytest.raises(PermissionDenied) as refused:
        may_record([Draft(), forged], recorder)
    assert refused.value.reason == "MESH_EVENT_TYPE"
    may_record([Draft(type="desk.inventory_taken")], recorder)


@pytest.mark.parametrize("kind", ["athenaeum_loans.fine_assessed", "athenaeumloans.fine_assessed", "athenaeum2.x"])
def test_no_one_records_a_look_alike_of_the_mesh_s_own_types(kind: str) -> None:
    with pytest.raises(PermissionDenied) as refused:
        may_record([Draft(type=kind)], LIBRARIAN)
    assert refused.value.reason == "MESH_EVENT_TYPE"


def test_a_person_names_no_audit_event_which_could_shadow_a_genuine_record_but_may_name_activity() -> None:
    """A librarian recording an AUDIT event under a real record's name made GetEvent answer the forgery."""
    with pytest.raises(PermissionDenied) as refused:
        may_record([audit(name=NAME)], LIBRARIAN)
    assert refused.value.reason == "AUDIT_NAME_IS_MINTED"
    may_record([audit(), Draft(name=NAME)], LIBRARIAN)
    may_record([Draft(category=Category.AUDIT, name=NAME)], Recorder("services/loans", staff=True))


def test_a_request_id_is_a_uuid() -> None:
    check_request_id("")
    check_request_id("6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11")
    with pytest.raises(InvalidArgument):
        check_request_id("retry-1")
