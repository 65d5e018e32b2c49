"""AnonymizePatronHistory with the in-memory unit of work, over records made by the audit trail's own rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeUnitOfWork

from services.events.app.anonymizing import AnonymizePatronHistory, anonymize_patron_history
from services.events.app.recording import store_events
from services.events.domain.audit import audit_record
from services.events.domain.model import EventRecord
from services.support.runtime.clock import FixedClock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument, NotFound

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ADMIN, LIBRARIAN = f"users/{uuid.uuid4()}", f"users/{uuid.uuid4()}"
ANONYMOUS = "users/anonymous"


def audit(kind: str, when: datetime, *fields: tuple[str, str], actor: str = "") -> EventRecord:
    """The AUDIT record the trail makes of a domain event (`actor`: the signed-in user the outbox saw)."""
    return audit_record(
        event_id=str(uuid.uuid4()), type=f"athenaeum.{kind}", context=kind.split(".")[0], occur_time=when,
        record_time=when, fields=list(fields), actor_hint=actor,
    )  # fmt: skip


def account(user: str, role: str, when: datetime = NOW - timedelta(days=900)) -> EventRecord:
    return audit("users.user_registered", when, ("user.name", user), ("user.role", f"USER_ROLE_{role}"))


async def anonymize(uow: FakeUnitOfWork, patron: str, before: datetime | None = None) -> int:
    cmd = AnonymizePatronHistory(patron, requested_by=ADMIN, before=before)
    return await anonymize_patron_history(cmd, uow=uow, clock=FixedClock(NOW))


def stored(uow: FakeUnitOfWork) -> dict[uuid.UUID, EventRecord]:
    return {r.id: r for r in uow.committed.stored.values()}


async def test_a_reader_s_reading_history_is_anonymised_and_the_account_s_own_records_stay() -> None:
    """Every loan record named the reader and the title for ever, after the account was closed too."""
    uow = FakeUnitOfWork()
    reader, other, loan = f"users/{uuid.uuid4()}", f"users/{uuid.uuid4()}", f"loans/{uuid.uuid4()}"
    old = NOW - timedelta(days=400)
    renewed = audit("loans.loan_renewed", old, ("loan.name", loan), ("loan.patron", reader),
                    ("loan.book_title", "Dead Souls"), actor=reader)  # fmt: skip
    recent = audit("loans.loan_issued", NOW - timedelta(days=1), ("loan.name", loan), ("loan.patron", reader),
                   actor=LIBRARIAN)  # fmt: skip
    others = audit("loans.loan_issued", old, ("loan.name", f"loans/{uuid.uuid4()}"), ("loan.patron", other))
    status = audit("users.user_status_changed", old, ("name", reader), ("changed_by", LIBRARIAN))
    own = [account(reader, "READER"), status]
    await store_events([renewed, recent, others, *own], uow=uow)
    assert await anonymize(uow, reader.upper().replace("USERS/", "users/"), before=NOW - timedelta(days=30)) == 1
    gone = stored(uow)[renewed.id]
    assert (gone.actor, gone.attributes["loan.patron"], gone.attributes["loan.book_title"]) == (
        ANONYMOUS,
        ANONYMOUS,
        "Dead Souls",
    )
    assert reader not in gone.resources and ANONYMOUS in gone.resources
    assert all(stored(uow)[r.id] == r for r in (recent, others, *own))
    assert await anonymize(uow, reader) == 1  # the recent one now
    with pytest.raises(InvalidArgument):
        await anonymize(uow, "users/me")


async def test_the_catalog_s_records_of_a_reader_s_hold_no_longer_name_them() -> None:
    """A hold's copy set aside and released: the catalog's records named the reader as actor (the loans
    service asked on their behalf), with the book, after the reader was anonymised (finding F1)."""
    uow = FakeUnitOfWork()
    reader, book, hold = f"users/{uuid.uuid4()}", f"books/{uuid.uuid4()}", f"holds/{uuid.uuid4()}"
    copy, when = f"{book}/copies/{uuid.uuid4()}", NOW - timedelta(days=3)
    copy_fields = (("name", copy), ("book", book))
    set_aside, released = (
        audit("catalog.copy_status_changed", when, *copy_fields, ("status", status), ("hold", hold), actor=reader)
        for status in ("COPY_STATUS_IN_TRANSIT", "COPY_STATUS_AVAILABLE")
    )
    lent = audit("catalog.copy_status_changed", when, *copy_fields, ("status", "COPY_STATUS_ON_LOAN"),
                 ("loan", f"loans/{uuid.uuid4()}"), actor=LIBRARIAN)  # fmt: skip
    placed = audit("loans.hold_placed", when, ("hold.name", hold), ("hold.patron", reader), ("hold.book", book),
                   actor=reader)  # fmt: skip
    signed_in = audit("users.user_logged_in", when, ("name", reader))
    await store_events([account(reader, "READER"), set_aside, released, lent, placed, signed_in], uow=uow)
    assert await anonymize(uow, reader) == 3
    after = stored(uow)
    for record in (set_aside, released):
        assert after[record.id].actor == ANONYMOUS and after[record.id].attributes == record.attributes
    assert reader not in repr(after[placed.id])
    assert after[lent.id] == lent and after[signed_in.id] == signed_in


async def test_a_staff_member_named_in_a_reader_s_records_keeps_their_name() -> None:
    uow = FakeUnitOfWork()
    reader, fine = f"users/{uuid.uuid4()}", f"fines/{uuid.uuid4()}"
    waived = audit("loans.fine_waived", NOW, ("fine.name", fine), ("fine.patron", reader), ("waived_by", LIBRARIAN))
    await store_events([account(reader, "READER"), waived], uow=uow)
    assert await anonymize(uow, reader) == 1
    after = stored(uow)[waived.id]
    assert (after.actor, after.attributes["waived_by"], after.attributes["fine.patron"]) == (
        LIBRARIAN,
        LIBRARIAN,
        ANONYMOUS,
    )
    assert LIBRARIAN in after.resources


@pytest.mark.parametrize("roles", [("LIBRARIAN",), ("ADMIN",), ("LIBRARIAN", "READER")])
async def test_a_staff_account_is_refused_and_its_acts_stay_attributable(roles: tuple[str, ...]) -> None:
    """An admin could erase which librarian waived fines, issued loans, declared items lost (finding F2)."""
    uow = FakeUnitOfWork()
    staff, fine = f"users/{uuid.uuid4()}", f"fines/{uuid.uuid4()}"
    history = [account(staff, role, NOW - timedelta(days=len(roles) - i)) for i, role in enumerate(roles)]
    history[1:] = [  # demoted later: the account's records still hold what it did as staff
        audit("users.user_updated", r.occur_time, ("user.name", staff), ("user.role", r.attributes["user.role"]))
        for r in history[1:]
    ]
    waived = audit("loans.fine_waived", NOW, ("fine.name", fine), ("fine.patron", f"users/{uuid.uuid4()}"),
                   ("waived_by", staff))  # fmt: skip
    await store_events([*history, waived], uow=uow)
    before = dict(uow.committed.stored)
    with pytest.raises(FailedPrecondition) as refused:
        await anonymize(uow, staff)
    assert refused.value.reason == "NOT_A_READER"
    assert uow.committed.stored == before


async def test_an_account_the_trail_does_not_know_is_not_found() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(NotFound):
        await anonymize(uow, f"users/{uuid.uuid4()}")
    assert not uow.committed.stored


async def test_the_anonymisation_is_itself_recorded_without_what_it_removed() -> None:
    """The trail was rewritten and nothing said so: by whom, for whom, how much (finding F2)."""
    uow = FakeUnitOfWork()
    reader, loan = f"users/{uuid.uuid4()}", f"loans/{uuid.uuid4()}"
    issued = audit("loans.loan_issued", NOW - timedelta(days=40), ("loan.name", loan), ("loan.patron", reader),
                   ("loan.book_title", "Dead Souls"), actor=LIBRARIAN)  # fmt: skip
    await store_events([account(reader, "READER"), issued], uow=uow)
    before = NOW - timedelta(days=30)
    assert await anonymize(uow, reader, before=before) == 1
    assert await anonymize(uow, reader) == 0  # a repeat is harmless, and recorded too
    records = sorted(
        (r for r in uow.committed.stored.values() if r.type == "athenaeum.events.patron_history_anonymized"),
        key=lambda r: r.attributes["anonymized_count"],
        reverse=True,
    )
    assert [(r.actor, r.subject, r.category.name, r.resources) for r in records] == [
        (ADMIN, reader, "AUDIT", (reader,))
    ] * 2
    assert [r.attributes for r in records] == [
        {"patron": reader, "anonymized_count": "1", "before_time": "2026-11-01T12:00:00Z"},
        {"patron": reader, "anonymized_count": "0"},
    ]
    assert "Dead Souls" not in repr(records) and loan not in repr(records)
