"""A hold whose copy was set aside goes back to the queue without its reader's doing (the copy missing, damaged or
withdrawn; the account may not borrow when the copy came): the reader is told once, in English and Russian, by
email and SMS, and a READY hold's reader that the copy no longer waits."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.notifications.api.decoding import LoansDecoder
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.trial_render import inspected_in_process
from services.notifications.domain.kinds import KINDS, Kind
from services.support.runtime.wire import event_subject, timestamp

from .conftest import NOON

PATRON = f"users/{uuid.uuid4()}"
DECODER = LoansDecoder(hold_notice=timedelta(hours=24))
RENDERER = JinjaRenderer(inspection=inspected_in_process)
HOLD = resources_pb2.Hold(name="holds/h1", patron=PATRON, book="books/b1", pickup_branch="MAIN",
                          status=resources_pb2.HOLD_STATUS_WAITING)  # fmt: skip


def _intake(event):
    return DECODER.intake(event_subject("loans", event), event.SerializeToString(), trace={})


@pytest.mark.parametrize(
    ("copy_status", "before", "why", "was_ready"),
    [
        (resources_pb2.HELD_COPY_STATUS_DAMAGED, resources_pb2.HOLD_STATUS_READY, "damaged", "yes"),
        (resources_pb2.HELD_COPY_STATUS_WITHDRAWN, resources_pb2.HOLD_STATUS_READY, "withdrawn", "yes"),
        (resources_pb2.HELD_COPY_STATUS_LOST, resources_pb2.HOLD_STATUS_IN_TRANSIT, "missing", ""),
        (resources_pb2.HELD_COPY_STATUS_UNSPECIFIED, resources_pb2.HOLD_STATUS_UNSPECIFIED, "missing", ""),
    ],
)
def test_a_hold_whose_copy_is_gone_tells_its_reader_and_ends_its_pickup_reminder(
    copy_status, before, why, was_ready
) -> None:
    event = loans.HoldCopyMissing(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=HOLD,
                                  copy="books/b1/copies/c1", copy_status=copy_status,
                                  previous_status=before)  # fmt: skip
    intake = _intake(event)
    (told,) = intake.occurrences
    assert (told.kind, told.book, str(told.event_id)) == (Kind.HOLD_REQUEUED, "books/b1", event.event_id)
    assert str(told.recipient_id) == PATRON.removeprefix("users/")
    assert (told.facts["why"], told.facts["was_ready"], told.facts["branch"]) == (why, was_ready, "MAIN")
    assert intake.cancel == ("holds/h1",)  # "your hold expires tomorrow" is moot
    assert [(end.about, end.at) for end in intake.ends] == [("holds/h1", NOON)]  # a "ready" still waiting too


def test_a_hold_passed_over_tells_its_reader_their_account_may_not_borrow() -> None:
    event = loans.HoldPassedOver(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=HOLD,
                                 copy="books/b1/copies/c1",
                                 previous_status=resources_pb2.HOLD_STATUS_IN_TRANSIT)  # fmt: skip
    (told,) = _intake(event).occurrences
    assert (told.kind, told.facts["why"], told.facts["was_ready"]) == (Kind.HOLD_REQUEUED, "may_not_borrow", "")
    assert str(told.event_id) == event.event_id  # a redelivered event is the same occurrence: told once


@pytest.mark.parametrize(
    ("locale", "back", "do_not_come", "damaged", "account"),
    [
        ("en", "back in the queue", "do not come", "was found damaged", "may not borrow"),
        ("ru", "снова в очереди", "Приходить за прежним не нужно", "оказался повреждён", "не может брать книги"),
    ],
)
def test_the_notice_says_why_the_hold_waits_again_and_not_to_come_when_it_was_ready(
    locale: str, back: str, do_not_come: str, damaged: str, account: str
) -> None:
    params = {name: "" for name in KINDS[Kind.HOLD_REQUEUED].variables}
    params |= {"book_title": "Two Branches", "branch": "MAIN", "why": "damaged", "was_ready": "yes"}
    email = RENDERER.render(BUILTIN[f"hold_requeued_email_{locale}"], params)
    assert back in email.text and do_not_come in email.text and damaged in email.text
    assert "Two Branches" in email.subject and "MAIN" in email.text and "\n\n\n" not in email.text
    sms = RENDERER.render(BUILTIN[f"hold_requeued_sms_{locale}"], params)
    assert "Two Branches" in sms.text and back in sms.text
    passed_over = params | {"why": "may_not_borrow", "was_ready": ""}
    passed = RENDERER.render(BUILTIN[f"hold_requeued_email_{locale}"], passed_over)
    assert account in passed.text and do_not_come not in passed.text and damaged not in passed.text
