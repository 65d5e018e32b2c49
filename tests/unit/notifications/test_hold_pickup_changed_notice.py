"""A waiting hold the desk moves to another pickup branch (UpdateHold by staff) tells its reader where to come, in
English and Russian, by email and SMS, unless they opted out of the kind; a reader who changed it themselves is
not told of their own change."""

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
from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.recipients import ChannelChoice, routes
from services.support.runtime.wire import event_subject, timestamp
from services.users.domain.validation import kind_choices_violation

from .conftest import NOON
from .fakes import recipient

PATRON = f"users/{uuid.uuid4()}"
STAFF = f"users/{uuid.uuid4()}"
DECODER = LoansDecoder(hold_notice=timedelta(hours=24))
RENDERER = JinjaRenderer(inspection=inspected_in_process)
HOLD = resources_pb2.Hold(name="holds/h1", patron=PATRON, book="books/b1", pickup_branch="EAST",
                          status=resources_pb2.HOLD_STATUS_WAITING)  # fmt: skip


def _changed(changed_by: str) -> loans.HoldPickupBranchChanged:
    return loans.HoldPickupBranchChanged(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), hold=HOLD,
                                         previous_pickup_branch="MAIN", changed_by=changed_by)  # fmt: skip


def _intake(event: loans.HoldPickupBranchChanged):
    return DECODER.intake(event_subject("loans", event), event.SerializeToString(), trace={})


def test_a_hold_the_desk_moves_to_another_branch_tells_its_reader_where_to_come() -> None:
    event = _changed(STAFF)
    (told,) = _intake(event).occurrences
    assert (told.kind, told.book, str(told.event_id)) == (Kind.HOLD_PICKUP_CHANGED, "books/b1", event.event_id)
    assert str(told.recipient_id) == PATRON.removeprefix("users/")
    assert (told.facts["branch"], told.facts["previous_branch"]) == ("EAST", "MAIN")


@pytest.mark.parametrize("changed_by", [PATRON, ""], ids=["the reader", "nobody named"])
def test_a_reader_is_not_told_of_their_own_change_of_pickup_branch(changed_by: str) -> None:
    assert _intake(_changed(changed_by)) is None


def test_a_reader_may_opt_out_of_the_notice_like_other_hold_notices() -> None:
    assert kind_choices_violation(["hold_pickup_changed"], field="kinds") is None  # the users API takes the key
    assert [route.channel for route in routes(recipient(), Kind.HOLD_PICKUP_CHANGED)] == [Channel.EMAIL, Channel.SMS]
    opted_out = recipient(kinds={"hold_pickup_changed": ChannelChoice(email=False, sms=False)})
    assert routes(opted_out, Kind.HOLD_PICKUP_CHANGED) == []


@pytest.mark.parametrize(
    ("locale", "moved", "queue"),
    [("en", "changed where you will pick up", "keeps its place"), ("ru", "изменила отделение", "место в очереди")],
)
@pytest.mark.parametrize("previous", ["MAIN", ""])
def test_the_notice_names_the_new_branch_and_the_one_before(locale: str, moved: str, queue: str, previous: str) -> None:
    params = {name: "" for name in KINDS[Kind.HOLD_PICKUP_CHANGED].variables}
    params |= {"book_title": "Two Branches", "branch": "EAST", "previous_branch": previous}
    email = RENDERER.render(BUILTIN[f"hold_pickup_changed_email_{locale}"], params)
    assert moved in email.text and queue in email.text and "EAST" in email.subject and "Two Branches" in email.text
    assert ("MAIN" in email.text) == bool(previous) and "\n\n\n" not in email.text
    sms = RENDERER.render(BUILTIN[f"hold_pickup_changed_sms_{locale}"], params)
    assert "Two Branches" in sms.text and "EAST" in sms.text and ("MAIN" in sms.text) == bool(previous)
